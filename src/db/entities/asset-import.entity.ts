import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from "typeorm";
import { CampaignEntity } from "./campaign.entity.js";
import { TenantEntity } from "./tenant.entity.js";

export interface ImportResultColumns {
  url: string;
  status: "PENDING" | "IMPORTED" | "DUPLICATE" | "FAILED";
  assetId?: string | null;
  errorCode?: string | null;
  error?: string | null;
  altText?: string | null;
}

/** A request to import photos by URL or from a listing page, with one result per URL. */
@Entity("asset_import")
@Index("asset_import_campaign_idx", ["campaignId", "createdAt"])
export class AssetImportEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "asset_import_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "asset_import_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  campaignId!: string;

  @ManyToOne(() => CampaignEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "campaign_id", foreignKeyConstraintName: "asset_import_campaign_fkey" })
  campaign?: CampaignEntity;

  /** `URLS` or `LISTING`. */
  @Column({ type: "text" })
  kind!: string;

  @Column({ type: "text", nullable: true })
  pageUrl!: string | null;

  @Column({ type: "text", default: "QUEUED" })
  status!: string;

  @Column({ type: "jsonb", default: () => "'[]'" })
  results!: ImportResultColumns[];

  @Column({ type: "text", nullable: true })
  error!: string | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @Column({ type: "timestamptz", nullable: true })
  finishedAt!: Date | null;
}
