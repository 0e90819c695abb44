import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from "typeorm";
import { TenantEntity } from "./tenant.entity.js";

export interface BrandColumns {
  primaryColor?: string | null;
  secondaryColor?: string | null;
  tone?: string | null;
  /** A READY asset of this campaign whose purpose is LOGO. */
  logoAssetId?: string | null;
}

/** The listing agent shown on the branded outro (never on the unbranded cut). */
export interface AgentColumns {
  name: string;
  phone?: string | null;
  email?: string | null;
  brokerage?: string | null;
  licenseNumber?: string | null;
  /** A READY asset of this campaign whose purpose is AGENT_PHOTO. */
  photoAssetId?: string | null;
}

/** A property being marketed. */
@Entity("campaign")
@Index("campaign_tenant_created_idx", ["tenantId", "createdAt", "id"])
export class CampaignEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "campaign_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "campaign_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "text" })
  name!: string;

  @Column({ type: "text", nullable: true })
  address!: string | null;

  /** Whole currency units as a decimal string (no float money). */
  @Column({ type: "numeric", precision: 14, scale: 2, nullable: true })
  price!: string | null;

  @Column({ type: "text", default: "USD" })
  currency!: string;

  @Column({ type: "integer", nullable: true })
  bedrooms!: number | null;

  @Column({ type: "numeric", precision: 4, scale: 1, nullable: true })
  bathrooms!: string | null;

  @Column({ type: "integer", nullable: true })
  areaSqft!: number | null;

  @Column({ type: "text", nullable: true })
  description!: string | null;

  @Column({ type: "jsonb", default: () => "'{}'" })
  brand!: BrandColumns;

  /** The listing's page: the outro's QR code points here. */
  @Column({ type: "text", nullable: true })
  listingUrl!: string | null;

  @Column({ type: "jsonb", nullable: true })
  agent!: AgentColumns | null;

  /** BCP 47 tag: how numbers, prices and dates are written on screen. */
  @Column({ type: "text", default: "en-US" })
  locale!: string;

  /** IANA zone of the property (open-house times); required for OPEN_HOUSE videos. */
  @Column({ type: "text", nullable: true })
  timeZone!: string | null;

  @Column({ type: "text", nullable: true })
  musicMood!: string | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ type: "timestamptz" })
  updatedAt!: Date;
}
