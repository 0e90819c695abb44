import { randomBytes } from "node:crypto";
import type { PgBoss } from "pg-boss";
import type { JobQueue } from "../services/job-queue.js";

/**
 * Every queue: its payload type (ids only) and its policy, in one table. Handlers live one per
 * file and are registered by name; the worker refuses to start if a queue has no handler.
 */
export interface QueuePayloads {
  "asset.import": { importId: string };
  "video.plan": { jobId: string };
  "video.scene": { jobId: string; index: number };
  "video.score": { jobId: string };
  "video.assemble": { jobId: string; generation: number };
  "video.renditions": { jobId: string; mediaId: string };
  "media.sweep": Record<string, never>;
}

export type QueueName = keyof QueuePayloads;

export interface QueuePolicy {
  /** Attempts after the first. */
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  /** A claimed job not finished by then is considered stuck and retried. */
  expireInSeconds: number;
  /** Jobs of this queue one worker process runs at once (a function of the config for renders). */
  localConcurrency: number | ((config: { renderConcurrency: number }) => number);
  /** A worker that stops heart-beating this long is presumed dead and its job retried elsewhere. */
  heartbeatSeconds?: number;
}

export const DEAD_LETTER_QUEUE = "dead-letter";

export const QUEUE_POLICIES: Record<QueueName, QueuePolicy> = {
  "asset.import": {
    retryLimit: 2,
    retryDelaySeconds: 5,
    retryBackoff: true,
    expireInSeconds: 15 * 60,
    localConcurrency: 2,
  },
  "video.plan": {
    retryLimit: 3,
    retryDelaySeconds: 2,
    retryBackoff: true,
    expireInSeconds: 5 * 60,
    localConcurrency: 2,
    heartbeatSeconds: 10,
  },
  "video.scene": {
    retryLimit: 3,
    retryDelaySeconds: 2,
    retryBackoff: true,
    expireInSeconds: 20 * 60,
    localConcurrency: (config) => config.renderConcurrency,
    heartbeatSeconds: 10,
  },
  "video.score": {
    retryLimit: 3,
    retryDelaySeconds: 2,
    retryBackoff: true,
    expireInSeconds: 20 * 60,
    localConcurrency: 2,
    heartbeatSeconds: 10,
  },
  "video.assemble": {
    retryLimit: 3,
    retryDelaySeconds: 2,
    retryBackoff: true,
    expireInSeconds: 10 * 60,
    localConcurrency: 1,
    heartbeatSeconds: 10,
  },
  "video.renditions": {
    retryLimit: 2,
    retryDelaySeconds: 10,
    retryBackoff: true,
    expireInSeconds: 20 * 60,
    localConcurrency: 1,
    heartbeatSeconds: 10,
  },
  "media.sweep": {
    retryLimit: 0,
    retryDelaySeconds: 60,
    retryBackoff: false,
    expireInSeconds: 10 * 60,
    localConcurrency: 1,
  },
};

/** Creates the queues (idempotent) with their policies and the shared dead-letter queue. */
export async function createQueues(boss: PgBoss): Promise<void> {
  await boss.createQueue(DEAD_LETTER_QUEUE).catch(ignoreExists);
  for (const [name, policy] of Object.entries(QUEUE_POLICIES) as [QueueName, QueuePolicy][]) {
    const options = {
      retryLimit: policy.retryLimit,
      retryDelay: policy.retryDelaySeconds,
      retryBackoff: policy.retryBackoff,
      expireInSeconds: policy.expireInSeconds,
      deadLetter: DEAD_LETTER_QUEUE,
      ...(policy.heartbeatSeconds ? { heartbeatSeconds: policy.heartbeatSeconds } : {}),
      notify: true,
    };
    await boss.createQueue(name, options).catch(ignoreExists);
    await boss.updateQueue(name, options).catch(() => undefined);
  }
}

function ignoreExists(error: unknown): void {
  if (!/exists/i.test(String((error as Error)?.message))) throw error;
}

/** Typed send: the payload must match the queue. */
async function enqueue<N extends QueueName>(
  boss: PgBoss,
  name: N,
  payload: QueuePayloads[N],
  options: { singletonKey?: string } = {},
): Promise<void> {
  await boss.send(name, payload, { singletonKey: options.singletonKey });
}

/**
 * The services' queue port over pg-boss. A job sent twice (a retried plan re-sending its scenes)
 * runs twice harmlessly: every transition its handler makes is guarded, so the second run finds
 * nothing to do. The singleton keys name what each job is for.
 */
export class PgBossJobQueue implements JobQueue {
  constructor(private readonly boss: PgBoss) {}

  async planVideo(jobId: string): Promise<void> {
    await enqueue(this.boss, "video.plan", { jobId }, { singletonKey: jobId });
  }

  async renderScene(jobId: string, index: number): Promise<void> {
    await enqueue(
      this.boss,
      "video.scene",
      { jobId, index },
      { singletonKey: `${jobId}:${index}:${randomBytes(4).toString("hex")}` },
    );
  }

  async composeScore(jobId: string): Promise<void> {
    await enqueue(this.boss, "video.score", { jobId }, { singletonKey: `${jobId}:score` });
  }

  async assembleVideo(jobId: string, generation: number): Promise<void> {
    await enqueue(
      this.boss,
      "video.assemble",
      { jobId, generation },
      { singletonKey: `${jobId}:${generation}` },
    );
  }

  async renderRenditions(jobId: string, mediaId: string): Promise<void> {
    await enqueue(this.boss, "video.renditions", { jobId, mediaId }, { singletonKey: `${jobId}:${mediaId}` });
  }

  async importAssets(importId: string): Promise<void> {
    await enqueue(this.boss, "asset.import", { importId }, { singletonKey: importId });
  }
}
