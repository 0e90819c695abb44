import type { EntityManager } from "typeorm";

/** A webhook message to deliver, and the generation of it this delivery is for (a redelivery bumps it). */
export interface WebhookDeliveryRef {
  messageId: string;
  generation: number;
}

/**
 * The background queue as the services see it: what has to happen next, by name, ids only.
 * Implemented over pg-boss by `PgBossJobQueue` (src/jobs/queues.ts) and injected, so services
 * never import src/jobs (the handlers there sit above the services and call them).
 */
export interface JobQueue {
  planVideo(jobId: string): Promise<void>;
  renderScene(jobId: string, index: number): Promise<void>;
  composeScore(jobId: string): Promise<void>;
  assembleVideo(jobId: string, generation: number): Promise<void>;
  importAssets(importId: string): Promise<void>;
  /**
   * Partner webhook deliveries, enqueued inside `within` (the transaction of the state change
   * that caused them: they exist exactly when it commits), after `delaySeconds` (a retry).
   */
  deliverWebhooks(
    messages: WebhookDeliveryRef[],
    within: EntityManager,
    delaySeconds?: number,
  ): Promise<void>;
  /** The adaptive-streaming ladder of a job's finished video (after SUCCEEDED). */
  renderRenditions(jobId: string, mediaId: string): Promise<void>;
}
