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
import { CampaignEntity } from "./campaign.entity.js";
import { MediaEntity } from "./media.entity.js";
import { TenantEntity } from "./tenant.entity.js";

export const ASSET_STATUSES = ["PENDING_UPLOAD", "PROCESSING", "READY", "REJECTED"] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];

/**
 * What an asset is for: a listing PHOTO (analysed, chosen for scenes), the brand's LOGO or the
 * AGENT_PHOTO (sanitised and rasterised for the outro card, never chosen for a scene).
 */
export const ASSET_PURPOSES = ["PHOTO", "LOGO", "AGENT_PHOTO"] as const;
export type AssetPurpose = (typeof ASSET_PURPOSES)[number];

export interface AssetQualityColumns {
  sharpness: number;
  exposure: number;
  colourfulness: number;
  flags: string[];
  [extra: string]: unknown;
}

/** A photo in a campaign, with what image analysis found. */
@Entity("asset")
@Index("asset_campaign_created_idx", ["campaignId", "createdAt", "id"])
export class AssetEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "asset_pkey" })
  id!: string;

  @Index("asset_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "asset_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  campaignId!: string;

  @ManyToOne(() => CampaignEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "campaign_id", foreignKeyConstraintName: "asset_campaign_fkey" })
  campaign?: CampaignEntity;

  @Index("asset_media_idx")
  @Column({ type: "uuid", nullable: true })
  mediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "media_id", foreignKeyConstraintName: "asset_media_fkey" })
  media?: MediaEntity;

  @Index("asset_thumbnail_media_idx")
  @Column({ type: "uuid", nullable: true })
  thumbnailMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "thumbnail_media_id", foreignKeyConstraintName: "asset_thumbnail_media_fkey" })
  thumbnailMedia?: MediaEntity;

  @Column({ type: "text" })
  filename!: string;

  /** The type the bytes really are (magic bytes), once known. */
  @Column({ type: "text", nullable: true })
  contentType!: string | null;

  /** Declared size for a pending upload; real size once stored. */
  @Column({ type: "bigint", nullable: true })
  byteSize!: string | null;

  @Column({ type: "text", default: "PENDING_UPLOAD" })
  status!: AssetStatus;

  @Column({ type: "text", default: "PHOTO" })
  purpose!: AssetPurpose;

  @Column({ type: "text", nullable: true })
  rejectionReason!: string | null;

  @Column({ type: "integer", nullable: true })
  width!: number | null;

  @Column({ type: "integer", nullable: true })
  height!: number | null;

  @Column({ type: "text", nullable: true })
  format!: string | null;

  /** Set by the user; wins over the guess. */
  @Column({ type: "text", nullable: true })
  roomType!: string | null;

  @Column({ type: "text", nullable: true })
  roomTypeGuess!: string | null;

  @Column({ type: "text", array: true, default: () => "'{}'" })
  tags!: string[];

  @Column({ type: "text", nullable: true })
  altText!: string | null;

  @Column({ type: "jsonb", nullable: true })
  quality!: AssetQualityColumns | null;

  /** 64-bit difference hash, 16 hex digits: near-duplicate detection. */
  @Column({ type: "text", nullable: true })
  dhash!: string | null;

  @Column({ type: "uuid", nullable: true })
  duplicateOfAssetId!: string | null;

  @Column({ type: "text", nullable: true })
  sourceUrl!: string | null;

  /** A pending upload's signed URL is valid until then (and single-use). */
  @Column({ type: "timestamptz", nullable: true })
  uploadExpiresAt!: Date | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ type: "timestamptz" })
  updatedAt!: Date;
}
