import type { EntityManager } from "typeorm";
import type { JobQueue } from "../services/job-queue.js";
import type { CompletedBatch } from "../services/video-job-batch.writes.js";
import {
  assetEvents,
  batchCompletedEvent,
  importCompletedEvent,
  jobEndedEvent,
  sceneFailedEvent,
  type TypedWebhookEvent,
} from "./webhook-event-data.js";
import type { WebhookBody, WebhookEvent, WebhookEventType } from "./webhook-events.js";

/**
 * The outbox of partner webhooks. Every transition that causes an event calls it with its own
 * transaction: one message per enabled endpoint of the tenant that subscribed to the event, and
 * their delivery jobs (pg-boss, sent with that transaction), are written with the state change.
 * If the change rolls back, nothing is sent; once it commits, the messages and jobs exist
 * whatever happens to the process next. A tenant without endpoints costs one read and one
 * INSERT … SELECT that inserts nothing.
 */
export class WebhookOutbox {
  constructor(private readonly deps: { queue: Pick<JobQueue, "deliverWebhooks"> }) {}

  async jobEnded(manager: EntityManager, jobId: string): Promise<void> {
    await this.recordEach(manager, [await jobEndedEvent(manager, jobId)]);
  }

  async sceneFailed(manager: EntityManager, jobId: string, index: number): Promise<void> {
    await this.recordEach(manager, [await sceneFailedEvent(manager, jobId, index)]);
  }

  /** Photos that have just become READY or REJECTED. */
  async assetsSettled(manager: EntityManager, assetIds: readonly string[]): Promise<void> {
    await this.recordEach(manager, await assetEvents(manager, assetIds));
  }

  async importCompleted(manager: EntityManager, importId: string): Promise<void> {
    await this.recordEach(manager, [await importCompletedEvent(manager, importId)]);
  }

  async batchCompleted(manager: EntityManager, batch: CompletedBatch): Promise<void> {
    await this.recordEach(manager, [batchCompletedEvent(batch)]);
  }

  /**
   * Writes `event` for the tenant's enabled endpoints subscribed to `to.eventType` — or for the
   * one endpoint `to.endpointId`, whatever it subscribed to (a test delivery) — and enqueues
   * their delivery in the same transaction. Returns the message ids.
   */
  async record(
    manager: EntityManager,
    event: WebhookEvent,
    to: { eventType: WebhookEventType } | { endpointId: string },
  ): Promise<string[]> {
    const body: WebhookBody = { type: event.name, timestamp: new Date().toISOString(), data: event.data };
    const [target, value] =
      "endpointId" in to ? ["e.id = $2", to.endpointId] : ["e.enabled AND $2 = ANY(e.events)", to.eventType];
    const rows: { id: string; generation: number }[] = await manager.query(
      `INSERT INTO webhook_message (tenant_id, endpoint_id, event_type, payload, signed_media)
       SELECT e.tenant_id, e.id, $3, $4::jsonb, $5::jsonb FROM webhook_endpoint e
        WHERE e.tenant_id = $1 AND ${target}
       RETURNING id, generation`,
      [event.tenantId, value, event.name, JSON.stringify(body), JSON.stringify(event.signedMedia ?? {})],
    );
    await this.deps.queue.deliverWebhooks(
      rows.map((row) => ({ messageId: row.id, generation: row.generation })),
      manager,
    );
    return rows.map((row) => row.id);
  }

  private async recordEach(
    manager: EntityManager,
    events: readonly (TypedWebhookEvent | null)[],
  ): Promise<void> {
    for (const event of events) if (event) await this.record(manager, event, { eventType: event.type });
  }
}
