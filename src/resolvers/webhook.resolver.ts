import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { WebhookEndpointEntity, WebhookMessageEntity } from "../db/entities/index.js";
import type { Connection } from "../schema/connection.type.js";
import { PageArgs } from "../schema/page-args.type.js";
import {
  CreateWebhookEndpointInput,
  UpdateWebhookEndpointInput,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryConnection,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
} from "../schema/webhook.type.js";
import type { WebhookEventType } from "../webhooks/webhook-events.js";
import { webhookIdOf } from "../webhooks/webhook-signing.js";
import { toConnection } from "./connection.js";
import { type GraphQLContext, tenantOf } from "./context.js";

/**
 * Partner webhooks: endpoints and their secrets (admin scope: a secret is a credential), the
 * delivery log (read) and test deliveries and redeliveries (write).
 */
@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @Query(() => [WebhookEndpoint], { description: "The tenant's webhook endpoints, oldest first." })
  async webhookEndpoints(@Ctx() context: GraphQLContext): Promise<WebhookEndpoint[]> {
    const tenantId = tenantOf(context);
    return (await context.services.webhookEndpoints.list(tenantId)).map(toWebhookEndpoint);
  }

  @Query(() => WebhookEndpoint, { description: "An endpoint of the caller's tenant; NOT_FOUND otherwise." })
  async webhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    const tenantId = tenantOf(context);
    return toWebhookEndpoint(await context.services.webhookEndpoints.require(tenantId, id));
  }

  @Mutation(() => WebhookEndpointWithSecret, {
    description: "Creates an endpoint; the returned `secret` (`whsec_…`) is shown only this once.",
  })
  async createWebhookEndpoint(
    @Arg("input", () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpointWithSecret> {
    const tenantId = tenantOf(context, "admin");
    const { endpoint, secret } = await context.services.webhookEndpoints.create(tenantId, input);
    context.logger.info({ endpointId: endpoint.id }, "webhook endpoint created");
    return { endpoint: toWebhookEndpoint(endpoint), secret };
  }

  @Mutation(() => WebhookEndpoint)
  async updateWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    const tenantId = tenantOf(context, "admin");
    return toWebhookEndpoint(await context.services.webhookEndpoints.update(tenantId, id, input));
  }

  @Mutation(() => Boolean, {
    description: "Deletes the endpoint and its delivery log; pending deliveries stop.",
  })
  async deleteWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<boolean> {
    const tenantId = tenantOf(context, "admin");
    return await context.services.webhookEndpoints.delete(tenantId, id);
  }

  @Mutation(() => WebhookEndpointWithSecret, {
    description:
      "A new signing secret, shown this once. For 24 hours deliveries carry a signature with the old secret too.",
  })
  async rotateWebhookSecret(
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpointWithSecret> {
    const tenantId = tenantOf(context, "admin");
    const { endpoint, secret } = await context.services.webhookEndpoints.rotateSecret(tenantId, id);
    context.logger.info({ endpointId: endpoint.id }, "webhook secret rotated");
    return { endpoint: toWebhookEndpoint(endpoint), secret };
  }

  @Mutation(() => WebhookDelivery, { description: "Sends a `webhook.test` event to the endpoint now." })
  async sendTestWebhook(
    @Arg("endpointId", () => ID) endpointId: string,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookDelivery> {
    const tenantId = tenantOf(context, "write");
    const messageId = await context.services.webhookEndpoints.sendTest(tenantId, endpointId);
    return toWebhookDelivery(await context.services.webhookDeliveries.require(tenantId, messageId));
  }

  @Query(() => WebhookDeliveryConnection, { description: "An endpoint's deliveries, newest first." })
  async webhookDeliveries(
    @Arg("endpointId", () => ID) endpointId: string,
    @Args() args: PageArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<WebhookDelivery>> {
    const tenantId = tenantOf(context);
    return toConnection(
      await context.services.webhookDeliveries.list(tenantId, endpointId, args),
      toWebhookDelivery,
    );
  }

  @Mutation(() => WebhookDelivery, {
    description: "One more attempt of a delivery now (same `webhook-id`), outside the retry schedule.",
  })
  async redeliverWebhook(
    @Arg("deliveryId", () => ID) deliveryId: string,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookDelivery> {
    const tenantId = tenantOf(context, "write");
    return toWebhookDelivery(await context.services.webhookDeliveries.redeliver(tenantId, deliveryId));
  }
}

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @FieldResolver(() => [WebhookAttempt], { description: "Its attempts, oldest first." })
  async attemptLog(
    @Root() delivery: WebhookDelivery,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookAttempt[]> {
    tenantOf(context);
    return await context.loaders.webhookAttempts.load(delivery.id);
  }
}

function toWebhookEndpoint(entity: WebhookEndpointEntity): WebhookEndpoint {
  return {
    id: entity.id,
    url: entity.url,
    description: entity.description,
    events: entity.events as WebhookEventType[],
    enabled: entity.enabled,
    disabledReason: entity.disabledReason,
    disabledAt: entity.disabledAt,
    failingSince: entity.failingSince,
    previousSecretExpiresAt: entity.previousSecretExpiresAt,
    createdAt: entity.createdAt,
  };
}

function toWebhookDelivery(entity: WebhookMessageEntity): WebhookDelivery {
  return {
    id: entity.id,
    endpointId: entity.endpointId,
    webhookId: webhookIdOf(entity.id),
    eventType: entity.eventType,
    status: entity.status,
    attempts: entity.attempts,
    lastStatusCode: entity.lastStatusCode,
    lastResponse: entity.lastResponse,
    lastError: entity.lastError,
    lastAttemptAt: entity.lastAttemptAt,
    nextAttemptAt: entity.nextAttemptAt,
    deliveredAt: entity.deliveredAt,
    createdAt: entity.createdAt,
  };
}
