import type { DataSource } from "typeorm";
import { WebhookAttemptEntity, WebhookMessageEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { AppError } from "../errors.js";
import type { JobQueue } from "../services/job-queue.js";
import { isUuid, keysetPage, type Page, type PageArgs } from "../services/pagination.js";
import type { WebhookEndpointService } from "./webhook-endpoint.service.js";

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

  /** The attempts of one delivery, oldest first. */
  async attempts(tenantId: string, deliveryId: string): Promise<WebhookAttemptEntity[]> {
    return await this.deps.dataSource.getRepository(WebhookAttemptEntity).find({
      where: { tenantId, messageId: deliveryId },
      order: { id: "ASC" },
      take: MAX_ATTEMPTS_SHOWN,
    });
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
