import { signWebhook } from "../providers/replicate/webhook-signature.js";
import type { WebhookBody } from "./webhook-events.js";

/**
 * What goes on the wire, as pure functions: the `webhook-id` of a message, the body with its
 * signed URLs filled in, and the Standard Webhooks headers. The signing itself is the same
 * `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` that verifies Replicate's webhooks.
 */

/** The `webhook-id` of a message: the same on every attempt (receivers deduplicate by it). */
export function webhookIdOf(messageId: string): string {
  return `msg_${messageId.replaceAll("-", "")}`;
}

/**
 * The body of one attempt: the stored payload, with each signed medium's URL (and when the
 * URLs expire) put into `data.video`. Everything else is identical on every attempt.
 */
export function renderBody(
  payload: WebhookBody,
  signedMedia: Readonly<Record<string, string>>,
  sign: (mediaId: string) => { url: string; expiresAt: Date },
): string {
  const fields = Object.entries(signedMedia);
  if (fields.length === 0) return JSON.stringify(payload);
  const video: Record<string, unknown> = { ...(payload.data.video as Record<string, unknown> | undefined) };
  let expiresAt: Date | undefined;
  for (const [field, mediaId] of fields) {
    const signed = sign(mediaId);
    video[field] = signed.url;
    expiresAt = signed.expiresAt;
  }
  video.urlExpiresAt = expiresAt?.toISOString();
  return JSON.stringify({ ...payload, data: { ...payload.data, video } });
}

/**
 * The request headers of one attempt. With several secrets (the current one and, during a
 * rotation's grace period, the previous one) the signatures are space-separated, as the spec
 * allows: a receiver that knows either secret verifies the delivery.
 */
export function webhookHeaders(options: {
  messageId: string;
  timestampSeconds: number;
  body: string;
  secrets: readonly string[];
}): Record<string, string> {
  const id = webhookIdOf(options.messageId);
  const timestamp = String(options.timestampSeconds);
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": options.secrets
      .map((secret) => signWebhook(secret, id, timestamp, options.body))
      .join(" "),
  };
}
