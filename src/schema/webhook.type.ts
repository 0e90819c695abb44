import { ArrayMaxSize, ArrayMinSize, IsOptional, MaxLength } from "class-validator";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import {
  WEBHOOK_MESSAGE_STATUSES,
  type WebhookMessageStatus,
} from "../db/entities/webhook-message.entity.js";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../webhooks/webhook-events.js";
import { connectionTypes } from "./connection.type.js";
import { enumOf } from "./enums.js";

export const WebhookEventTypeEnum = enumOf(WEBHOOK_EVENT_TYPES);
export const WebhookDeliveryStatusEnum = enumOf(WEBHOOK_MESSAGE_STATUSES);

registerEnumType(WebhookEventTypeEnum, {
  name: "WebhookEventType",
  description:
    "What a webhook endpoint can subscribe to; the body's `type` is its dotted name (`video_job.succeeded`).",
});
registerEnumType(WebhookDeliveryStatusEnum, {
  name: "WebhookDeliveryStatus",
  description: "PENDING: an attempt is due; DELIVERED: answered 2xx; FAILED: every scheduled attempt failed.",
});

@ObjectType({
  description: "Where the tenant's webhooks go. The signing secret is never shown again after it is made.",
})
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field()
  url!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [WebhookEventTypeEnum])
  events!: WebhookEventType[];

  @Field()
  enabled!: boolean;

  @Field(() => String, {
    nullable: true,
    description: "Why it is disabled: by the tenant, or by us after every delivery failed for 5 days.",
  })
  disabledReason!: string | null;

  @Field(() => Date, { nullable: true })
  disabledAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the current run of failed attempts began." })
  failingSince!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Until when the secret before the last rotation still signs deliveries (beside the new one).",
  })
  previousSecretExpiresAt!: Date | null;

  @Field()
  createdAt!: Date;
}

@ObjectType({ description: "A new endpoint, or a rotated secret. `secret` (`whsec_…`) is shown this once." })
export class WebhookEndpointWithSecret {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field()
  secret!: string;
}

@ObjectType({ description: "One HTTP attempt at a delivery." })
export class WebhookAttempt {
  @Field()
  attemptedAt!: Date;

  @Field(() => Int, {
    nullable: true,
    description: "Null when the receiver never answered (timeout, refused).",
  })
  statusCode!: number | null;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true, description: "The start of the answer (at most 1 KiB)." })
  responseExcerpt!: string | null;
}

@ObjectType({ description: "One event sent to one endpoint, with all its attempts (one `webhook-id`)." })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  endpointId!: string;

  @Field({ description: "The `webhook-id` header of every attempt." })
  webhookId!: string;

  @Field({ description: "The body's `type`, e.g. `video_job.succeeded`." })
  eventType!: string;

  @Field(() => WebhookDeliveryStatusEnum)
  status!: WebhookMessageStatus;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Int, { nullable: true })
  lastStatusCode!: number | null;

  @Field(() => String, { nullable: true, description: "The start of the last answer (at most 1 KiB)." })
  lastResponse!: string | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Date, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the next attempt is due; null once settled." })
  nextAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;

  @Field()
  createdAt!: Date;
}

export const WebhookDeliveryConnection = connectionTypes(WebhookDelivery, "WebhookDelivery");

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: "An https URL (checked against private and internal addresses)." })
  @MaxLength(2048)
  url!: string;

  @Field(() => [WebhookEventTypeEnum])
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  events!: WebhookEventType[];

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;
}

@InputType({
  description: "Only the fields given change. Enabling an endpoint again clears its failure run.",
})
export class UpdateWebhookEndpointInput {
  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(2048)
  url?: string;

  @Field(() => [WebhookEventTypeEnum], { nullable: true })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  events?: WebhookEventType[];

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field({ nullable: true })
  @IsOptional()
  enabled?: boolean;
}
