import type { DataSource } from "typeorm";
import { WebhookMessageEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { isUuid } from "../domain/ids.js";
import { AppError } from "../errors.js";
import type { JobQueue } from "../services/job-queue.js";
import { keysetPage, type Page, type PageArgs } from "../services/pagination.js";
import type { WebhookEndpointService } from "./webhook-endpoint.service.js";

/** One attempt as the delivery log shows it. */
export interface WebhookAttempt {
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

/** How many attempts of one delivery the log shows (a message has at most MAX_ATTEMPTS automatic ones). */
const MAX_ATTEMPTS_SHOWN = 50;

/**
 * The delivery log a tenant reads: its messages per endpoint, newest first, with their attempts;
 * and a manual redelivery, which is one more attempt of the same message (same `webhook-id`),
 * made now, outside the automatic schedule.
 */
export class WebhookDeliveryLogService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      endpoints: Pick<WebhookEndpointService, "require">;
      queue: Pick<JobQueue, "deliverWebhooks">;
    },
  ) {}

  async list(tenantId: string, endpointId: string, args: PageArgs): Promise<Page<WebhookMessageEntity>> {
    const endpoint = await this.deps.endpoints.require(tenantId, endpointId);
    const query = this.deps.dataSource
      .getRepository(WebhookMessageEntity)
      .createQueryBuilder("m")
      .where("m.tenant_id = :tenantId AND m.endpoint_id = :endpointId", {
        tenantId,
        endpointId: endpoint.id,
      });
    return await keysetPage(query, "m", args);
  }

  async require(tenantId: string, deliveryId: string): Promise<WebhookMessageEntity> {
    const message = isUuid(deliveryId)
      ? await this.deps.dataSource
          .getRepository(WebhookMessageEntity)
          .findOne({ where: { tenantId, id: deliveryId } })
      : null;
    if (!message) throw new AppError("NOT_FOUND", "Webhook delivery not found");
    return message;
  }

  /** The attempts of each delivery (for a DataLoader), oldest first, at most MAX_ATTEMPTS_SHOWN each. */
  async attemptsOf(tenantId: string, deliveryIds: readonly string[]): Promise<Map<string, WebhookAttempt[]>> {
    const rows: (WebhookAttempt & { messageId: string })[] = await this.deps.dataSource.query(
      `SELECT "messageId", "attemptedAt", "statusCode", "durationMs", error, "responseExcerpt" FROM (
         SELECT message_id AS "messageId", attempted_at AS "attemptedAt", status_code AS "statusCode",
                duration_ms AS "durationMs", error, response_excerpt AS "responseExcerpt", id,
                row_number() OVER (PARTITION BY message_id ORDER BY id) AS n
           FROM webhook_attempt WHERE tenant_id = $1 AND message_id = ANY($2::uuid[])
       ) ranked WHERE n <= $3 ORDER BY "messageId", id`,
      [tenantId, deliveryIds.filter(isUuid), MAX_ATTEMPTS_SHOWN],
    );
    const byMessage = new Map<string, WebhookAttempt[]>(deliveryIds.map((id) => [id, []]));
    for (const { messageId, ...attempt } of rows) byMessage.get(messageId)?.push(attempt);
    return byMessage;
  }

  /**
   * One more attempt now. The message's generation is bumped in the same transaction that
   * enqueues the attempt, so a scheduled retry still waiting finds itself outdated and does
   * nothing: one message never has two attempts in flight.
   */
  async redeliver(tenantId: string, deliveryId: string): Promise<WebhookMessageEntity> {
    const message = await this.require(tenantId, deliveryId);
    await this.deps.dataSource.transaction(async (manager) => {
      const [row] = returnedRows<{ generation: number }>(
        await manager.query(
          `UPDATE webhook_message SET generation = generation + 1, status = 'PENDING', auto_retry = false,
                  next_attempt_at = now()
            WHERE id = $1 AND tenant_id = $2 RETURNING generation`,
          [message.id, tenantId],
        ),
      );
      if (row)
        await this.deps.queue.deliverWebhooks(
          [{ messageId: message.id, generation: row.generation }],
          manager,
        );
    });
    return await this.require(tenantId, deliveryId);
  }
}
