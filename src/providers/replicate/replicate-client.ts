import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import Replicate from "replicate";
import { AppError, isAppError } from "../../errors.js";

/** The fields of a Replicate prediction we read (GET /v1/predictions/{id}). */
export interface Prediction {
  id: string;
  model?: string;
  status: "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted";
  input?: Record<string, unknown>;
  output?: unknown;
  error?: unknown;
  webhook?: string;
  created_at?: string;
  metrics?: { predict_time?: number };
}

export const TERMINAL = new Set(["succeeded", "failed", "canceled", "aborted"]);

export interface ReplicateClientOptions {
  apiToken: string;
  baseUrl: string;
  /** Attempts for transient failures (5xx, network) of one call. */
  attempts?: number;
  /** First backoff delay; doubled each attempt. */
  backoffMs?: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Largest output download. */
  maxDownloadBytes?: number;
}

/**
 * The Replicate HTTP API through the official SDK, with the policy the adapters need: every
 * failure becomes an AppError (PROVIDER_FAILED, transient for 5xx/429/network, final for 4xx
 * with the provider's own message), 5xx retried with backoff here, the token never in a message.
 */
export class ReplicateClient {
  private readonly sdk: Replicate;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxDownloadBytes: number;

  constructor(private readonly options: ReplicateClientOptions) {
    this.sdk = new Replicate({ auth: options.apiToken, baseUrl: options.baseUrl, useFileOutput: false });
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxDownloadBytes = options.maxDownloadBytes ?? 512 * 1024 * 1024;
  }

  /**
   * POST /v1/models/{owner}/{name}/predictions (official models), or POST /v1/predictions with
   * a `version` (community models such as MusicGen). `Cancel-After` bounds what Replicate runs.
   */
  async create(
    model: string,
    body: { input: Record<string, unknown>; webhook?: string; webhook_events_filter?: string[] },
    options: { cancelAfter?: string; signal?: AbortSignal; version?: string } = {},
  ): Promise<Prediction> {
    return await this.call("create prediction", options.signal, async (signal) => {
      const response = await this.sdk.request(
        options.version ? "/predictions" : `/models/${model}/predictions`,
        {
          method: "POST",
          headers: options.cancelAfter ? { "Cancel-After": options.cancelAfter } : {},
          data: options.version ? { ...body, version: options.version } : body,
          signal,
        },
      );
      return (await response.json()) as Prediction;
    });
  }

  async get(id: string, signal?: AbortSignal): Promise<Prediction> {
    return await this.call("get prediction", signal, async (s) => {
      const response = await this.sdk.request(`/predictions/${encodeURIComponent(id)}`, {
        method: "GET",
        signal: s,
      });
      return (await response.json()) as Prediction;
    });
  }

  async cancel(id: string): Promise<void> {
    await this.call("cancel prediction", undefined, async (s) => {
      await this.sdk.request(`/predictions/${encodeURIComponent(id)}/cancel`, { method: "POST", signal: s });
    });
  }

  /** The first page of recent predictions of this account (newest first). */
  async listRecent(signal?: AbortSignal): Promise<Prediction[]> {
    return await this.call("list predictions", signal, async (s) => {
      const response = await this.sdk.request("/predictions", { method: "GET", signal: s });
      const page = (await response.json()) as { results?: Prediction[] };
      return page.results ?? [];
    });
  }

  /** Copies a prediction output to a file at once (Replicate deletes outputs after an hour). */
  async download(url: string, file: string, signal?: AbortSignal): Promise<void> {
    if (!/^https?:\/\//.test(url))
      throw new AppError("PROVIDER_FAILED", "The provider returned no output URL");
    await this.call(
      "download output",
      signal,
      async (s) => {
        const response = await fetch(url, { signal: s, redirect: "follow" });
        if (!response.ok || !response.body) {
          throw Object.assign(new Error(`output download failed with ${response.status}`), {
            status: response.status,
          });
        }
        let bytes = 0;
        const cap = this.maxDownloadBytes;
        const limit = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            if (bytes > cap)
              callback(new AppError("PAYLOAD_TOO_LARGE", "The provider's output is too large"));
            else callback(null, chunk);
          },
        });
        await pipeline(Readable.fromWeb(response.body as never), limit, createWriteStream(file));
      },
      120_000,
    );
  }

  private async call<T>(
    what: string,
    outer: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<T> {
    let last: AppError | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      outer?.throwIfAborted();
      const signal = outer
        ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs);
      try {
        return await fn(signal);
      } catch (error) {
        if (outer?.aborted) throw new AppError("CANCELLED", "Cancelled", { cause: outer.reason });
        last = toProviderError(what, error, this.options.apiToken);
        if (!last.transient) throw last;
      }
      if (attempt < this.attempts) await sleep(this.backoffMs * 2 ** (attempt - 1), outer);
    }
    throw last ?? new AppError("PROVIDER_FAILED", `Replicate: ${what} failed`, { transient: true });
  }
}

/** Maps an SDK/fetch failure to an AppError whose message is safe to show (no token, no URL). */
export function toProviderError(what: string, error: unknown, secret?: string): AppError {
  if (isAppError(error)) return error;
  const response = (error as { response?: Response }).response;
  const status = response?.status ?? (error as { status?: number }).status;
  if (status === undefined) {
    const timeout = (error as Error)?.name === "TimeoutError";
    return new AppError(
      "PROVIDER_FAILED",
      `Replicate: ${what} ${timeout ? "timed out" : "failed (network)"}`,
      { transient: true },
    );
  }
  const transient = status >= 500 || status === 429 || status === 408;
  const detail = redact(providerDetail((error as Error).message), secret);
  return new AppError(
    "PROVIDER_FAILED",
    `Replicate: ${what} failed (${status})${detail ? `: ${detail}` : ""}`,
    {
      transient,
      details: { provider: "replicate", status },
    },
  );
}

/** The `detail` of Replicate's problem JSON inside the SDK's message, else nothing. */
function providerDetail(message: string): string {
  const json = message.slice(message.indexOf(": {") + 2).replace(/\.$/, "");
  try {
    const parsed = JSON.parse(json) as { detail?: unknown; title?: unknown };
    const detail =
      typeof parsed.detail === "string"
        ? parsed.detail
        : typeof parsed.title === "string"
          ? parsed.title
          : "";
    return detail.slice(0, 300);
  } catch {
    return "";
  }
}

export function redact(text: string, secret?: string): string {
  let out = text
    .replace(/([?&]token=)[^&\s"]+/g, "$1[redacted]")
    .replace(/Bearer\s+\S+/g, "Bearer [redacted]");
  if (secret) out = out.split(secret).join("[redacted]");
  return out;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AppError("CANCELLED", "Cancelled"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AppError("CANCELLED", "Cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The first URL of a prediction's output (a string, or a list of strings). */
export function outputUrl(output: unknown): string | undefined {
  if (typeof output === "string") return output;
  if (Array.isArray(output) && typeof output[0] === "string") return output[0];
  return undefined;
}
