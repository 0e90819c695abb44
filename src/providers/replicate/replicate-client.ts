import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { AppError, isAppError } from "../../errors.js";
import { safeFetchStream } from "../../media/safe-fetch.js";
import { DEFAULT_OUTBOUND_POLICY, type OutboundPolicy } from "../../media/ssrf-guard.js";

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
  /** Requests per call at most, the first included (transient failures only). */
  attempts?: number;
  /** Wait before the first retry; doubled before each further one. */
  backoffMs?: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Largest output download. */
  maxDownloadBytes?: number;
  /**
   * Where outputs may be downloaded from: host names (`*.domain` for its subdomains), fetched
   * through the SSRF guard under `policy`. Default: Replicate's delivery hosts, public addresses.
   */
  outputs?: { hosts: readonly string[]; policy: OutboundPolicy };
}

/** Replicate serves prediction outputs from its delivery CDN. */
export const REPLICATE_OUTPUT_HOSTS: readonly string[] = ["replicate.delivery", "*.replicate.delivery"];

/** Whether `host` is one of `patterns` (exact names, or `*.domain` for any subdomain of it). */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((pattern) =>
    pattern.startsWith("*.")
      ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1
      : name === pattern,
  );
}

/** A non-2xx answer of the Replicate API: its status and (problem JSON) body. */
class ReplicateHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Replicate answered ${status}`);
  }
}

/**
 * The Replicate HTTP API (the routes the adapters use) with the one retry layer of this project:
 * every failure becomes an AppError (PROVIDER_FAILED, transient for 5xx/429/408/network/timeout,
 * final for 4xx with the provider's own message), the token never in a message.
 *
 * Retry schedule, per call: at most `attempts` (3) requests, waiting `backoffMs` (1 s) then twice
 * that (2 s) between them, each request bounded by `requestTimeoutMs` (30 s), every wait cut short
 * by the caller's AbortSignal. A failing GET therefore costs 3 requests, a failing create 3 (for
 * 5xx/429/408 answers) or 1: a create whose request failed without an answer may have created
 * the prediction, so it is not repeated here; the job's retry adopts it (found among recent
 * predictions) instead of paying for a second one.
 *
 * Not through the `replicate` SDK: its `request()` always adds a retry layer of its own (up to
 * 6 requests per call, back to back, POSTs included on network errors) that cannot be turned off,
 * which stacked with this one made a failing GET cost 18 requests.
 */
export class ReplicateClient {
  private readonly baseUrl: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxDownloadBytes: number;
  private readonly outputs: { hosts: readonly string[]; policy: OutboundPolicy };

  constructor(private readonly options: ReplicateClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxDownloadBytes = options.maxDownloadBytes ?? 512 * 1024 * 1024;
    this.outputs = options.outputs ?? { hosts: REPLICATE_OUTPUT_HOSTS, policy: DEFAULT_OUTBOUND_POLICY };
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
    const route = options.version ? "/predictions" : `/models/${model}/predictions`;
    const data = options.version ? { ...body, version: options.version } : body;
    const headers: Record<string, string> = options.cancelAfter
      ? { "Cancel-After": options.cancelAfter }
      : {};
    return await this.call(
      "create prediction",
      options.signal,
      (signal) => this.json<Prediction>("POST", route, signal, data, headers),
      { retryUnanswered: false },
    );
  }

  async get(id: string, signal?: AbortSignal): Promise<Prediction> {
    return await this.call("get prediction", signal, (s) =>
      this.json<Prediction>("GET", `/predictions/${encodeURIComponent(id)}`, s),
    );
  }

  async cancel(id: string): Promise<void> {
    await this.call("cancel prediction", undefined, (s) =>
      this.json("POST", `/predictions/${encodeURIComponent(id)}/cancel`, s),
    );
  }

  /** The first page of recent predictions of this account (newest first). */
  async listRecent(signal?: AbortSignal): Promise<Prediction[]> {
    return await this.call("list predictions", signal, async (s) => {
      const page = await this.json<{ results?: Prediction[] }>("GET", "/predictions", s);
      return page.results ?? [];
    });
  }

  /** One request to the API; a non-2xx answer throws ReplicateHttpError. */
  private async json<T>(
    method: "GET" | "POST",
    route: string,
    signal: AbortSignal,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      signal,
      headers: {
        authorization: `Bearer ${this.options.apiToken}`,
        "content-type": "application/json",
        "user-agent": "propvid",
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new ReplicateHttpError(response.status, await response.text().catch(() => ""));
    return (await response.json()) as T;
  }

  /**
   * Copies a prediction output to a file at once (Replicate deletes outputs after an hour). The
   * URL comes from the provider's answer, so it is treated like any outside URL (ABUSE 51): only
   * the configured output hosts, through the SSRF guard (every address checked, no redirects),
   * with a byte cap and deadlines.
   */
  async download(url: string, file: string, signal?: AbortSignal): Promise<void> {
    let host: string;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("scheme");
      host = parsed.hostname.replace(/^\[|\]$/g, "");
    } catch {
      throw new AppError("PROVIDER_FAILED", "The provider returned no output URL");
    }
    if (!hostAllowed(host, this.outputs.hosts)) {
      throw new AppError("URL_NOT_ALLOWED", "The provider's output is on a host that is not allowed", {
        details: { reason: "host-not-allowed" },
      });
    }
    await this.call(
      "download output",
      signal,
      async (s) => {
        const response = await safeFetchStream(url, {
          policy: this.outputs.policy,
          maxBytes: this.maxDownloadBytes,
          connectTimeoutMs: 10_000,
          idleTimeoutMs: 30_000,
          totalTimeoutMs: 110_000, // inside the attempt's 120 s, so that it ends as a (retried) TIMEOUT
          maxRedirects: 0,
          signal: s,
        });
        if (response.status < 200 || response.status > 299) {
          response.body.destroy();
          throw Object.assign(new Error(`output download failed with ${response.status}`), {
            status: response.status,
          });
        }
        await pipeline(response.body, createWriteStream(file));
      },
      { timeoutMs: 120_000 },
    );
  }

  /** The retry layer (schedule in the class comment). */
  private async call<T>(
    what: string,
    outer: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    { timeoutMs = this.requestTimeoutMs, retryUnanswered = true } = {},
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
        const answered = last.details?.status !== undefined;
        if (!last.transient || (!answered && !retryUnanswered)) throw last;
      }
      if (attempt < this.attempts) await sleep(this.backoffMs * 2 ** (attempt - 1), outer);
    }
    throw last ?? new AppError("PROVIDER_FAILED", `Replicate: ${what} failed`, { transient: true });
  }
}

/** Maps a fetch failure or a non-2xx answer to an AppError whose message is safe to show (no token, no URL). */
export function toProviderError(what: string, error: unknown, secret?: string): AppError {
  if (isAppError(error)) return error;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== "number") {
    const timeout = (error as Error)?.name === "TimeoutError";
    return new AppError(
      "PROVIDER_FAILED",
      `Replicate: ${what} ${timeout ? "timed out" : "failed (network)"}`,
      { transient: true },
    );
  }
  const transient = status >= 500 || status === 429 || status === 408;
  const body = (error as { body?: unknown }).body;
  const detail = redact(providerDetail(typeof body === "string" ? body : ""), secret);
  return new AppError(
    "PROVIDER_FAILED",
    `Replicate: ${what} failed (${status})${detail ? `: ${detail}` : ""}`,
    {
      transient,
      details: { provider: "replicate", status },
    },
  );
}

/** The `detail` (else `title`) of Replicate's problem JSON, else nothing. */
function providerDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown; title?: unknown };
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
