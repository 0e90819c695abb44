import type { DataSource, EntityManager } from "typeorm";
import { WebhookEndpointEntity, WebhookMessageEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { JobQueue, WebhookDeliveryRef } from "../services/job-queue.js";
import type { WebhookBody } from "./webhook-events.js";
import { nextRetryDelaySeconds, SIGNED_URL_LIFETIME_SECONDS, shouldDisable } from "./webhook-schedule.js";
import type { WebhookSecretBox } from "./webhook-secrets.js";
import { type DeliveryOutcome, postWebhook, type SenderOptions } from "./webhook-sender.js";
import { renderBody, webhookHeaders } from "./webhook-signing.js";

export interface WebhookDelivererDeps {
  dataSource: DataSource;
  queue: Pick<JobQueue, "deliverWebhooks">;
  secrets: WebhookSecretBox;
  sender: SenderOptions;
  /** A signed URL for a media object of the tenant, valid `lifetimeSeconds`. */
  signMedia(tenantId: string, mediaId: string, lifetimeSeconds: number): { url: string; expiresAt: Date };
  logger: Logger;
  /** Counts attempts by result (`propvid_webhook_deliveries_total`). */
  metrics?: { webhookDelivered(result: "success" | "failure" | "dead"): void };
  now?: () => Date;
}

/**
 * One attempt at one message (the `webhook.deliver` job). Reads the message and its endpoint,
 * signs the body afresh (new timestamp, new signed URLs, the same `webhook-id`), POSTs it, then
 * records the attempt in one transaction together with what follows: DELIVERED, or the next
 * attempt's job (sent in that same transaction, so a retry is never lost nor doubled by a crash
 * between the two), or FAILED when the schedule is spent; the endpoint's failure run is
 * tracked there too, and an endpoint failing for five days is disabled with its reason.
 * A job of an older generation (the message was redelivered since) or for a settled message
 * does nothing.
 */
export class WebhookDeliverer {
  constructor(private readonly deps: WebhookDelivererDeps) {}

  async deliver(ref: WebhookDeliveryRef): Promise<void> {
    const message = await this.deps.dataSource
      .getRepository(WebhookMessageEntity)
      .findOne({ where: { id: ref.messageId } });
    if (!message || message.generation !== ref.generation || message.status !== "PENDING") return;
    const endpoint = await this.deps.dataSource
      .getRepository(WebhookEndpointEntity)
      .findOne({ where: { id: message.endpointId } });
    if (!endpoint) return;
    const outcome = endpoint.enabled
      ? await this.attempt(message, endpoint)
      : refused(`The endpoint is disabled: ${endpoint.disabledReason ?? "by its owner"}`);
    await this.record(ref, endpoint, outcome);
  }

  private async attempt(
    message: WebhookMessageEntity,
    endpoint: WebhookEndpointEntity,
  ): Promise<DeliveryOutcome> {
    let secrets: string[];
    try {
      secrets = this.secretsOf(endpoint);
    } catch (error) {
      return refused(isAppError(error) ? error.message : "The signing secret cannot be read");
    }
    const body = renderBody(message.payload as unknown as WebhookBody, message.signedMedia, (mediaId) =>
      this.deps.signMedia(message.tenantId, mediaId, SIGNED_URL_LIFETIME_SECONDS),
    );
    const headers = webhookHeaders({
      messageId: message.id,
      timestampSeconds: Math.floor(this.now().getTime() / 1000),
      body,
      secrets,
    });
    return await postWebhook(endpoint.url, body, headers, this.deps.sender);
  }

  /** The current secret, and the previous one while its grace period lasts. */
  private secretsOf(endpoint: WebhookEndpointEntity): string[] {
    const secrets = [this.deps.secrets.open(endpoint.secretCiphertext, endpoint.id)];
    const previous = endpoint.previousSecretCiphertext;
    const expires = endpoint.previousSecretExpiresAt;
    if (previous && expires && expires.getTime() > this.now().getTime()) {
      secrets.push(this.deps.secrets.open(previous, endpoint.id));
    }
    return secrets;
  }

  private async record(
    ref: WebhookDeliveryRef,
    endpoint: WebhookEndpointEntity,
    outcome: DeliveryOutcome,
  ): Promise<void> {
    let result: "success" | "failure" | "dead" | undefined;
    await this.deps.dataSource.transaction(async (manager) => {
      const [message]: { attempts: number; auto_retry: boolean; tenant_id: string }[] = await manager.query(
        `SELECT attempts, auto_retry, tenant_id FROM webhook_message
          WHERE id = $1 AND generation = $2 AND status = 'PENDING' FOR UPDATE`,
        [ref.messageId, ref.generation],
      );
      // Redelivered or settled while this attempt was in flight: the newer generation owns it.
      if (!message) return;
      const attempts = message.attempts + 1;
      await manager.query(
        `INSERT INTO webhook_attempt (message_id, tenant_id, status_code, duration_ms, error, response_excerpt)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          ref.messageId,
          message.tenant_id,
          outcome.statusCode,
          outcome.durationMs,
          outcome.error,
          outcome.excerpt,
        ],
      );
      // An endpoint this attempt disabled (or one disabled already) gets no further attempts.
      const enabled = endpoint.enabled && (await this.trackEndpoint(manager, endpoint.id, outcome.ok));
      const delay = outcome.ok || !message.auto_retry || !enabled ? null : nextRetryDelaySeconds(attempts);
      const status = outcome.ok ? "DELIVERED" : delay === null ? "FAILED" : "PENDING";
      result = outcome.ok ? "success" : delay === null ? "dead" : "failure";
      await manager.query(
        `UPDATE webhook_message
            SET attempts = $2, status = $3, last_status_code = $4, last_response = $5, last_error = $6,
                last_attempt_at = now(), delivered_at = CASE WHEN $3 = 'DELIVERED' THEN now() END,
                next_attempt_at = CASE WHEN $7::int IS NULL THEN NULL ELSE now() + $7::int * interval '1 second' END
          WHERE id = $1`,
        [ref.messageId, attempts, status, outcome.statusCode, outcome.excerpt, outcome.error, delay],
      );
      if (delay !== null) await this.deps.queue.deliverWebhooks([ref], manager, delay);
    });
    if (result) this.deps.metrics?.webhookDelivered(result);
    this.deps.logger.debug(
      { messageId: ref.messageId, statusCode: outcome.statusCode, ok: outcome.ok },
      "webhook attempt recorded",
    );
  }

  /**
   * A success ends the endpoint's failure run; a failure starts it or, after five days, disables
   * it. Returns whether the endpoint is still enabled.
   */
  private async trackEndpoint(manager: EntityManager, endpointId: string, ok: boolean): Promise<boolean> {
    if (ok) {
      await manager.query(
        "UPDATE webhook_endpoint SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
        [endpointId],
      );
      return true;
    }
    const [row] = returnedRows<{ failing_since: Date }>(
      await manager.query(
        "UPDATE webhook_endpoint SET failing_since = COALESCE(failing_since, now()) WHERE id = $1 RETURNING failing_since",
        [endpointId],
      ),
    );
    if (!row || !shouldDisable(new Date(row.failing_since), this.now())) return true;
    await manager.query(
      `UPDATE webhook_endpoint SET enabled = false, disabled_at = now(),
                disabled_reason = 'Every delivery failed for 5 days (since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
          WHERE id = $1 AND enabled`,
      [endpointId],
    );
    return false;
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }
}

/** An attempt that was not made (disabled endpoint, unreadable secret): logged like a failure. */
function refused(reason: string): DeliveryOutcome {
  return { ok: false, statusCode: null, excerpt: null, error: reason, durationMs: 0 };
}
