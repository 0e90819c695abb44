import { isAppError } from "../errors.js";
import { type HostResolver, safeFetchStream } from "../media/safe-fetch.js";
import type { OutboundPolicy } from "../media/ssrf-guard.js";
import { DELIVERY_TIMEOUT_MS, RESPONSE_EXCERPT_BYTES } from "./webhook-schedule.js";

/** What one attempt came to. `ok` is a 2xx answer; everything else is retried. */
export interface DeliveryOutcome {
  ok: boolean;
  /** The receiver's status; null when it never answered. */
  statusCode: number | null;
  /** The start of the answer's body, as text (bounded). */
  excerpt: string | null;
  /** Why it failed, for the delivery log (never a secret: no URL, no header). */
  error: string | null;
  durationMs: number;
}

export interface SenderOptions {
  policy: OutboundPolicy;
  timeoutMs?: number;
  /** Tests resolve names without DNS. */
  lookup?: HostResolver;
}

/**
 * POSTs one webhook through the SSRF guard (src/media/safe-fetch.ts): every address checked,
 * the connected one again, no redirect followed (a 3xx is a failed attempt: a receiver cannot
 * send us elsewhere, least of all inside our network), one deadline for the whole attempt, and
 * only the first bytes of the answer read. Never throws: every failure is an outcome.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  options: SenderOptions,
): Promise<DeliveryOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  try {
    const response = await safeFetchStream(url, {
      policy: options.policy,
      method: "POST",
      body: Buffer.from(body),
      headers,
      userAgent: "propvid-webhooks/1",
      accept: "*/*",
      // Only the excerpt is read; a large answer is not a failure.
      maxBytes: Number.MAX_SAFE_INTEGER,
      connectTimeoutMs: timeoutMs,
      totalTimeoutMs: timeoutMs,
      lookup: options.lookup,
    });
    const excerpt = await readExcerpt(response.body);
    const ok = response.status >= 200 && response.status <= 299;
    const redirected = response.status >= 300 && response.status <= 399;
    return {
      ok,
      statusCode: response.status,
      excerpt,
      error: ok
        ? null
        : redirected
          ? `The endpoint answered ${response.status}; redirects are not followed`
          : `The endpoint answered ${response.status}`,
      durationMs: elapsed(),
    };
  } catch (error) {
    return { ok: false, statusCode: null, excerpt: null, error: describe(error), durationMs: elapsed() };
  }
}

/** The first RESPONSE_EXCERPT_BYTES of the body as text; the rest is not read. */
async function readExcerpt(body: NodeJS.ReadableStream & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      chunks.push(buffer);
      length += buffer.length;
      if (length >= RESPONSE_EXCERPT_BYTES) break;
    }
  } catch {
    // An answer cut short still has its status; the excerpt is what arrived.
  } finally {
    body.destroy();
  }
  if (length === 0) return null;
  // PostgreSQL text cannot hold NUL; a cut multi-byte character decodes as U+FFFD.
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString("utf8").replaceAll("\u0000", "");
}

function describe(error: unknown): string {
  if (!isAppError(error)) return "The delivery failed";
  const reason = (error.details?.reason ?? error.details?.phase) as string | undefined;
  return reason ? `${error.code}: ${error.message} (${reason})` : `${error.code}: ${error.message}`;
}
