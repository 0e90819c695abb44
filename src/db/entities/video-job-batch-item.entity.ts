import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import { VideoJobEntity } from "./video-job.entity.js";
import { VideoJobBatchEntity } from "./video-job-batch.entity.js";

/** A job of a batch, at the position of its input (a join table: `video_job` itself is unchanged). */
@Entity("video_job_batch_item")
export class VideoJobBatchItemEntity {
  @PrimaryColumn({ type: "uuid", primaryKeyConstraintName: "video_job_batch_item_pkey" })
  batchId!: string;

  @ManyToOne(() => VideoJobBatchEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "batch_id", foreignKeyConstraintName: "video_job_batch_item_batch_fkey" })
  batch?: VideoJobBatchEntity;

  @PrimaryColumn({ type: "integer", primaryKeyConstraintName: "video_job_batch_item_pkey" })
  position!: number;

  @Index("video_job_batch_item_job_key", { unique: true })
  @Column({ type: "uuid" })
  jobId!: string;

  @ManyToOne(() => VideoJobEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "job_id", foreignKeyConstraintName: "video_job_batch_item_job_fkey" })
  job?: VideoJobEntity;
}
