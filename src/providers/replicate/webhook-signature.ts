import { createHmac, timingSafeEqual } from "node:crypto";

/** Standard Webhooks (as Replicate signs them): how old a delivery may be, either way. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export type WebhookVerdict =
  | { ok: true }
  | { ok: false; reason: "missing-headers" | "stale" | "bad-signature" | "no-secret" };

/** The HMAC key of a `whsec_<base64>` secret (the part after the prefix, base64-decoded). */
export function webhookKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` */
export function signWebhook(secret: string, id: string, timestamp: number | string, body: string): string {
  const mac = createHmac("sha256", webhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** Verifies a delivery's signature (any of the space-separated `v1,` entries) and its age. */
export function verifyWebhook(
  secret: string | undefined,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): WebhookVerdict {
  if (!secret) return { ok: false, reason: "no-secret" };
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: "missing-headers" };
  if (Math.abs(nowSeconds - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS)
    return { ok: false, reason: "stale" };
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body).slice(3), "base64");
  for (const entry of signature.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: "bad-signature" };
}
