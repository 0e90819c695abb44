import { randomBytes } from "node:crypto";
import type { PgBoss } from "pg-boss";
import type { EntityManager } from "typeorm";
import type { FairShare, Placement } from "../services/fair-share.js";
import type { JobQueue, WebhookDeliveryRef } from "../services/job-queue.js";
import { bossTransaction } from "./boss-transaction.js";

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
  "webhook.deliver": WebhookDeliveryRef;
  "video.admit": Record<string, never>;
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
  /**
   * Jobs of one tenant (the pg-boss group) one worker process runs at once, when fewer than
   * `localConcurrency`: the other slots stay free for other tenants' jobs.
   */
  localTenantConcurrency?: number;
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
    localTenantConcurrency: 1,
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
    localTenantConcurrency: 1,
    heartbeatSeconds: 10,
  },
  "video.assemble": {
    retryLimit: 3,
    retryDelaySeconds: 2,
    retryBackoff: true,
    expireInSeconds: 10 * 60,
    // Two slots, one per tenant (as for plans and scores): a tenant's batch of assemblies never
    // makes another tenant's video wait for one of them (fair queues, docs/ARCHITECTURE.md).
    localConcurrency: 2,
    localTenantConcurrency: 1,
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
  // One attempt per job: the retry schedule of a failed attempt (src/webhooks/webhook-schedule.ts)
  // is a new job sent with the attempt's record. pg-boss's own retries only cover a worker that
  // died or lost the database mid-attempt (noticed by heartbeat).
  "webhook.deliver": {
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
    expireInSeconds: 60,
    localConcurrency: 8,
    heartbeatSeconds: 10,
  },
  /** The once-a-minute safety net of tenant slots: waiting jobs nobody admitted, plans never sent. */
  "video.admit": {
    retryLimit: 0,
    retryDelaySeconds: 60,
    retryBackoff: false,
    expireInSeconds: 5 * 60,
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
  options: { singletonKey?: string; placement?: Placement } = {},
): Promise<void> {
  // pg-boss rejects `priority` or `group` keys that are present but undefined.
  const { placement } = options;
  const placed = placement ? { priority: placement.priority, group: { id: placement.tenantId } } : {};
  await boss.send(name, payload, { singletonKey: options.singletonKey, ...placed });
}

/**
 * The services' queue port over pg-boss. A job sent twice (a retried plan re-sending its scenes)
 * runs twice harmlessly: every transition its handler makes is guarded, so the second run finds
 * nothing to do. The singleton keys name what each job is for. Every part of a video job goes
 * out with its tenant's fair-share priority and its tenant as pg-boss group (services/fair-share.ts).
 */
export class PgBossJobQueue implements JobQueue {
  constructor(
    private readonly boss: PgBoss,
    private readonly fairShare?: Pick<FairShare, "placementOf">,
  ) {}

  async planVideo(jobId: string): Promise<void> {
    const placement = await this.placementOf(jobId);
    await enqueue(this.boss, "video.plan", { jobId }, { singletonKey: jobId, placement });
  }

  async renderScene(jobId: string, index: number): Promise<void> {
    await enqueue(
      this.boss,
      "video.scene",
      { jobId, index },
      {
        singletonKey: `${jobId}:${index}:${randomBytes(4).toString("hex")}`,
        placement: await this.placementOf(jobId),
      },
    );
  }

  async composeScore(jobId: string): Promise<void> {
    const placement = await this.placementOf(jobId);
    await enqueue(this.boss, "video.score", { jobId }, { singletonKey: `${jobId}:score`, placement });
  }

  async assembleVideo(jobId: string, generation: number): Promise<void> {
    await enqueue(
      this.boss,
      "video.assemble",
      { jobId, generation },
      { singletonKey: `${jobId}:${generation}`, placement: await this.placementOf(jobId) },
    );
  }

  async renderRenditions(jobId: string, mediaId: string): Promise<void> {
    await enqueue(this.boss, "video.renditions", { jobId, mediaId }, { singletonKey: `${jobId}:${mediaId}` });
  }

  private async placementOf(jobId: string): Promise<Placement | undefined> {
    return await this.fairShare?.placementOf(jobId);
  }

  async importAssets(importId: string): Promise<void> {
    await enqueue(this.boss, "asset.import", { importId }, { singletonKey: importId });
  }

  async deliverWebhooks(
    messages: WebhookDeliveryRef[],
    within: EntityManager,
    delaySeconds = 0,
  ): Promise<void> {
    if (messages.length === 0) return;
    const jobs: { data: QueuePayloads["webhook.deliver"]; startAfter?: number }[] = messages.map(
      (message) => ({
        data: { messageId: message.messageId, generation: message.generation },
        ...(delaySeconds > 0 ? { startAfter: delaySeconds } : {}),
      }),
    );
    await this.boss.insert("webhook.deliver", jobs, { db: bossTransaction(within) });
  }
}
