import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { WebhookEndpointEntity } from "../db/entities/index.js";
import { isUuid } from "../domain/ids.js";
import { AppError } from "../errors.js";
import { type OutboundPolicy, parseOutboundUrl } from "../media/ssrf-guard.js";
import { TEST_EVENT_NAME, WEBHOOK_EVENT_TYPES, type WebhookEventType } from "./webhook-events.js";
import type { WebhookOutbox } from "./webhook-outbox.js";
import { MAX_ENDPOINTS_PER_TENANT, SECRET_ROTATION_GRACE_MS } from "./webhook-schedule.js";
import { generateWebhookSecret, type WebhookSecretBox } from "./webhook-secrets.js";

export interface WebhookEndpointFields {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
  enabled?: boolean;
}

const MAX_DESCRIPTION = 500;

/**
 * A tenant's webhook endpoints: create (the secret shown once), update, delete, rotate the
 * secret (the old one keeps signing beside the new one for 24 h) and a test delivery. URLs are
 * checked by the SSRF guard's rules when saved, and again, address by address, at every attempt.
 * Only `https` URLs are accepted, except with the tests-only loopback setting.
 */
export class WebhookEndpointService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      secrets: WebhookSecretBox;
      outbox: Pick<WebhookOutbox, "record">;
      policy: OutboundPolicy;
    },
  ) {}

  private get repository() {
    return this.deps.dataSource.getRepository(WebhookEndpointEntity);
  }

  async list(tenantId: string): Promise<WebhookEndpointEntity[]> {
    return await this.repository.find({ where: { tenantId }, order: { createdAt: "ASC", id: "ASC" } });
  }

  async require(tenantId: string, id: string): Promise<WebhookEndpointEntity> {
    const endpoint = isUuid(id) ? await this.repository.findOne({ where: { tenantId, id } }) : null;
    if (!endpoint) throw new AppError("NOT_FOUND", "Webhook endpoint not found");
    return endpoint;
  }

  async create(
    tenantId: string,
    fields: Required<Pick<WebhookEndpointFields, "url" | "events">> &
      Pick<WebhookEndpointFields, "description">,
  ): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
    const checked = this.check(fields);
    return await this.deps.dataSource.transaction(async (manager) => {
      // Serialises a tenant's creations so the cap holds under concurrent calls.
      await manager.query("SELECT pg_advisory_xact_lock(hashtext($1 || ':webhook-endpoints'))", [tenantId]);
      const repository = manager.getRepository(WebhookEndpointEntity);
      if ((await repository.count({ where: { tenantId } })) >= MAX_ENDPOINTS_PER_TENANT) {
        throw new AppError(
          "BAD_USER_INPUT",
          `A tenant may have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`,
          {
            details: { max: MAX_ENDPOINTS_PER_TENANT },
          },
        );
      }
      const id = randomUUID();
      const secret = generateWebhookSecret();
      const endpoint = await repository.save(
        repository.create({
          id,
          tenantId,
          url: checked.url!,
          events: checked.events!,
          description: checked.description ?? null,
          enabled: true,
          disabledReason: null,
          disabledAt: null,
          failingSince: null,
          secretCiphertext: this.deps.secrets.seal(secret, id),
          previousSecretCiphertext: null,
          previousSecretExpiresAt: null,
        }),
      );
      return { endpoint, secret };
    });
  }

  /** Changes what is given; enabling again clears the reason it was disabled and its failure run. */
  async update(tenantId: string, id: string, fields: WebhookEndpointFields): Promise<WebhookEndpointEntity> {
    const checked = this.check(fields);
    const endpoint = await this.require(tenantId, id);
    if (checked.url !== undefined) endpoint.url = checked.url;
    if (checked.events !== undefined) endpoint.events = checked.events;
    if (checked.description !== undefined) endpoint.description = checked.description;
    if (fields.enabled === true && !endpoint.enabled) {
      Object.assign(endpoint, { enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    } else if (fields.enabled === false && endpoint.enabled) {
      Object.assign(endpoint, {
        enabled: false,
        disabledReason: "Disabled by the tenant",
        disabledAt: new Date(),
      });
    }
    return await this.repository.save(endpoint);
  }

  /** Deletes the endpoint with its delivery log; its pending deliveries find nothing and stop. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const endpoint = await this.require(tenantId, id);
    await this.repository.delete({ id: endpoint.id, tenantId });
    return true;
  }

  /**
   * A new secret (returned this once); the current one becomes the previous one and keeps
   * signing, beside the new one, for SECRET_ROTATION_GRACE_MS. A second rotation within the
   * grace period ends the first one's old secret at once.
   */
  async rotateSecret(
    tenantId: string,
    id: string,
  ): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
    const endpoint = await this.require(tenantId, id);
    const secret = generateWebhookSecret();
    endpoint.previousSecretCiphertext = endpoint.secretCiphertext;
    endpoint.previousSecretExpiresAt = new Date(Date.now() + SECRET_ROTATION_GRACE_MS);
    endpoint.secretCiphertext = this.deps.secrets.seal(secret, endpoint.id);
    return { endpoint: await this.repository.save(endpoint), secret };
  }

  /** Sends a `webhook.test` message to this endpoint (whatever it subscribed to); returns its id. */
  async sendTest(tenantId: string, id: string): Promise<string> {
    const endpoint = await this.require(tenantId, id);
    if (!endpoint.enabled) throw new AppError("CONFLICT", "The endpoint is disabled; enable it first");
    const [messageId] = await this.deps.dataSource.transaction((manager) =>
      this.deps.outbox.record(
        manager,
        {
          tenantId,
          name: TEST_EVENT_NAME,
          data: { endpointId: endpoint.id, message: "This is a test delivery." },
        },
        { endpointId: endpoint.id },
      ),
    );
    return messageId!;
  }

  private check(fields: WebhookEndpointFields): WebhookEndpointFields {
    const checked: WebhookEndpointFields = {};
    if (fields.url !== undefined) {
      const url = parseOutboundUrl(fields.url.trim(), this.deps.policy);
      if (url.protocol !== "https:" && !this.deps.policy.allowLoopbackForTests) {
        throw new AppError("BAD_USER_INPUT", "A webhook URL must use https", {
          details: { argument: "url" },
        });
      }
      checked.url = url.toString();
    }
    if (fields.events !== undefined) {
      const events = [...new Set(fields.events)];
      if (events.length === 0 || events.some((event) => !WEBHOOK_EVENT_TYPES.includes(event))) {
        throw new AppError("BAD_USER_INPUT", "events must name at least one webhook event type", {
          details: { argument: "events" },
        });
      }
      checked.events = events;
    }
    if (fields.description !== undefined) {
      const description = fields.description?.trim() || null;
      if (description && description.length > MAX_DESCRIPTION) {
        throw new AppError("BAD_USER_INPUT", `description must be at most ${MAX_DESCRIPTION} characters`);
      }
      checked.description = description;
    }
    return checked;
  }
}
