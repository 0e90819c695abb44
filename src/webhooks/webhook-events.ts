/**
 * What partners can subscribe to, and the body every webhook carries:
 * `{ "type": "video_job.succeeded", "timestamp": "<ISO 8601>", "data": { … } }`.
 * The GraphQL enum (`WebhookEventType`) is built from this list; the body's `type` is the
 * dotted lower-case name Standard Webhooks bodies conventionally use.
 */
export const WEBHOOK_EVENT_TYPES = [
  "VIDEO_JOB_SUCCEEDED",
  "VIDEO_JOB_FAILED",
  "VIDEO_JOB_CANCELLED",
  "SCENE_FAILED",
  "ASSET_READY",
  "ASSET_REJECTED",
  "IMPORT_COMPLETED",
  "BATCH_COMPLETED",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_EVENT_NAMES: Readonly<Record<WebhookEventType, string>> = {
  VIDEO_JOB_SUCCEEDED: "video_job.succeeded",
  VIDEO_JOB_FAILED: "video_job.failed",
  VIDEO_JOB_CANCELLED: "video_job.cancelled",
  SCENE_FAILED: "scene.failed",
  ASSET_READY: "asset.ready",
  ASSET_REJECTED: "asset.rejected",
  IMPORT_COMPLETED: "import.completed",
  BATCH_COMPLETED: "batch.completed",
};

/** `sendTestWebhook`: goes to the one endpoint asked for, whatever it subscribed to. */
export const TEST_EVENT_NAME = "webhook.test";

/** The body of every webhook. */
export interface WebhookBody {
  type: string;
  /** When the event happened (ISO 8601); the same on every attempt. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** An event as a transition hands it to the outbox. */
export interface WebhookEvent {
  tenantId: string;
  /** The body's `type`. */
  name: string;
  data: Record<string, unknown>;
  /** Media whose signed URLs go into `data.video` at each attempt: field name → media id. */
  signedMedia?: Record<string, string>;
}

/** The final job statuses, each with its event. */
export const JOB_END_EVENTS: Readonly<Record<string, WebhookEventType>> = {
  SUCCEEDED: "VIDEO_JOB_SUCCEEDED",
  FAILED: "VIDEO_JOB_FAILED",
  CANCELLED: "VIDEO_JOB_CANCELLED",
};
