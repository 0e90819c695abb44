import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from "typeorm";
import { MediaEntity } from "./media.entity.js";
import { TenantEntity } from "./tenant.entity.js";

/** Where the parts of a fragmented MP4 sit: byte ranges the HLS media playlist addresses. */
export interface RenditionSegmentsColumns {
  /** The initialisation section (ftyp + moov): [offset, length]. */
  init: [offset: number, length: number];
  /** One entry per media segment (moof + mdat…): [duration seconds, offset, length]. */
  parts: [duration: number, offset: number, length: number][];
}

/**
 * One rung of a video's adaptive-streaming ladder: ONE fragmented MP4 in one large object
 * (`media_id`), derived from a video media row (`source_media_id`, any cut). Deleting the source
 * deletes its renditions; their media rows are then unreferenced and swept.
 */
@Entity("video_rendition")
@Index("video_rendition_source_label_key", ["sourceMediaId", "label"], { unique: true })
export class VideoRenditionEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "video_rendition_pkey" })
  id!: string;

  @Index("video_rendition_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "video_rendition_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  sourceMediaId!: string;

  @ManyToOne(() => MediaEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "source_media_id", foreignKeyConstraintName: "video_rendition_source_media_fkey" })
  sourceMedia?: MediaEntity;

  @Index("video_rendition_media_idx")
  @Column({ type: "uuid" })
  mediaId!: string;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "media_id", foreignKeyConstraintName: "video_rendition_media_fkey" })
  media?: MediaEntity;

  /** `1080p`, `720p`, `480p`. */
  @Column({ type: "text" })
  label!: string;

  @Column({ type: "integer" })
  width!: number;

  @Column({ type: "integer" })
  height!: number;

  /** Peak bits per second over any segment (HLS BANDWIDTH). */
  @Column({ type: "integer" })
  bandwidth!: number;

  /** Bits per second over the whole file (HLS AVERAGE-BANDWIDTH). */
  @Column({ type: "integer" })
  averageBandwidth!: number;

  /** RFC 6381 codecs, e.g. `avc1.640028,mp4a.40.2`. */
  @Column({ type: "text" })
  codecs!: string;

  @Column({ type: "real" })
  durationSeconds!: number;

  @Column({ type: "jsonb" })
  segments!: RenditionSegmentsColumns;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
