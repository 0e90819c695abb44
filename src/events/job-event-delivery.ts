import type { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { type JobState, TERMINAL_EVENT_TYPES } from "./job-event.types.js";
import type { JobEventRecord, JobWithScenes } from "./job-event-reader.js";

/** The first thing a new follower of a job gets: the job as of `sequence`. */
export interface JobSnapshotEvent {
  type: "SNAPSHOT";
  sequence: number;
  job: JobState;
  createdAt: Date;
}

export type DeliveredEvent = JobSnapshotEvent | JobEventRecord;

/**
 * One event as one read hands it to every watcher of the job: the same object for all of them,
 * with the job and its scenes as read for it. Work that is the same for every receiver (mapping
 * it, executing one GraphQL selection) is done once through `shared`, and is dropped with the
 * delivery.
 */
export class JobEventDelivery {
  private readonly memo = new Map<string, unknown>();

  constructor(
    readonly event: DeliveredEvent,
    /** The job as read for this delivery; null when it is gone. */
    readonly job: VideoJobEntity | null,
    /** The job's scenes as read with it; null when they were not read (campaign activity). */
    readonly scenes: readonly SceneEntity[] | null,
  ) {}

  static snapshot({ job, scenes }: JobWithScenes): JobEventDelivery {
    const state = { status: job.status, stage: job.stage, progress: job.progress };
    return new JobEventDelivery(
      { type: "SNAPSHOT", sequence: job.lastSequence, job: state, createdAt: new Date() },
      job,
      scenes,
    );
  }

  /** After this event the job changes no more: a follower's stream ends with it. */
  get isFinal(): boolean {
    return this.event.type !== "SNAPSHOT" && TERMINAL_EVENT_TYPES.includes(this.event.type);
  }

  /** `make()`'s result, computed by the first receiver that asks for `key` and reused by the others. */
  shared<T>(key: string, make: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as T;
  }
}
