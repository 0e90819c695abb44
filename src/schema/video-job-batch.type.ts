import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { JobStatus } from "../db/entities/video-job.entity.js";
import { BATCH_STATUSES, type BatchStatus } from "../services/video-job-batch.writes.js";
import { enumOf, JobStatusEnum } from "./enums.js";

export const BatchStatusEnum = enumOf(BATCH_STATUSES);
registerEnumType(BatchStatusEnum, {
  name: "VideoJobBatchStatus",
  description:
    "RUNNING until every job of the batch has ended (succeeded, failed or cancelled): then COMPLETED.",
});

@ObjectType({ description: "Video jobs created together by `createVideoJobs`." })
export class VideoJobBatch {
  @Field(() => ID)
  id!: string;

  @Field(() => BatchStatusEnum)
  status!: BatchStatus;

  @Field(() => Float, {
    description: "0 to 1: an ended job counts as done, a running one by its own progress.",
  })
  progress!: number;

  @Field(() => Int)
  jobCount!: number;

  @Field(() => Int)
  succeeded!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => Int)
  cancelled!: number;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "When its last job ended (BATCH_COMPLETED was sent)." })
  completedAt!: Date | null;
}

@ObjectType({ description: "A job of a batch as of a progress update." })
export class BatchJobProgress {
  @Field(() => ID)
  id!: string;

  @Field(() => JobStatusEnum)
  status!: JobStatus;

  @Field(() => Float)
  progress!: number;
}

@ObjectType({
  description: "The batch as of now, and the job whose event caused this update (none in the first).",
})
export class BatchProgressEvent {
  @Field(() => VideoJobBatch)
  batch!: VideoJobBatch;

  @Field(() => BatchJobProgress, { nullable: true })
  job!: BatchJobProgress | null;
}
