import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * The only reader of `process.env`. Every setting is validated here, documented in the
 * README with its default, and handed to the rest of the code as a frozen object.
 */

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const booleanFlag = z
  .enum(["", "0", "1", "true", "false", "yes", "no"])
  .optional()
  .transform((value) => value === "1" || value === "true" || value === "yes");

const httpUrl = z
  .string()
  .trim()
  .url()
  .refine((value) => /^https?:\/\//.test(value), "must be an http(s) URL")
  .transform((value) => value.replace(/\/+$/, ""));

/** A host name, or `*.` and a domain (any subdomain of it). */
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

const intInRange = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  PORT: intInRange(0, 65535).default(4000),
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
  ),
  PROPVID_DATA_DIR: z.string().trim().min(1).default("./.data"),
  PROPVID_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PUBLIC_BASE_URL: optionalString.pipe(httpUrl.optional()),
  PROPVID_ROLE: z.enum(["all", "api", "worker"]).default("all"),
  RENDER_CONCURRENCY: z.preprocess(
    (value) => (value === "" ? undefined : value),
    intInRange(1, 64).optional(),
  ),
  RENDER_NICE: intInRange(0, 19).default(10),
  MAX_UPLOAD_BYTES: intInRange(1024, 2 ** 40).default(50 * 1024 * 1024),
  MAX_IMAGE_PIXELS: intInRange(1, 2 ** 31).default(100_000_000),
  RATE_LIMIT_PER_MINUTE: intInRange(0, 1_000_000).default(600),
  HTTP_HEADERS_TIMEOUT_MS: intInRange(1_000, 600_000).default(10_000),
  HTTP_IDLE_TIMEOUT_MS: intInRange(1_000, 3_600_000).default(30_000),
  HTTP_REQUEST_TIMEOUT_MS: intInRange(0, 86_400_000).default(600_000),
  UPLOAD_CONCURRENCY: intInRange(1, 1_000).default(16),
  UPLOAD_CONCURRENCY_PER_KEY: intInRange(1, 1_000).default(8),
  SHUTDOWN_TIMEOUT_MS: intInRange(1_000, 600_000).default(15_000),
  PROPVID_WORK_DIR: optionalString,
  FFMPEG_PATH: optionalString,
  FFPROBE_PATH: optionalString,
  PATH: z.string().optional(),
  /** Test-only: lets URL imports reach 127.0.0.0/8 and ::1 (never other private ranges). */
  PROPVID_TEST_ALLOW_LOOPBACK_FETCH: booleanFlag,
  REPLICATE_API_TOKEN: optionalString,
  REPLICATE_BASE_URL: httpUrl.default("https://api.replicate.com/v1"),
  REPLICATE_WEBHOOK_SECRET: optionalString,
  REPLICATE_POLL_INTERVAL_MS: z.preprocess(
    (value) => (value === "" ? undefined : value),
    intInRange(100, 3_600_000).optional(),
  ),
  REPLICATE_OUTPUT_HOSTS: z
    .string()
    .default("replicate.delivery,*.replicate.delivery")
    .transform((value) =>
      value
        .split(",")
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(HOST_PATTERN, "must be host names or *.domain patterns")).min(1)),
  XAI_API_KEY: optionalString,
  XAI_BASE_URL: httpUrl.default("https://api.x.ai/v1"),
  XAI_MODEL: z.string().trim().min(1).default("grok-4"),
  // Request guards (src/http/request-guard.ts): the same for HTTP and WebSocket.
  GRAPHQL_MAX_COST: intInRange(1, 10_000_000).default(5_000),
  GRAPHQL_COST_PER_MINUTE: intInRange(0, 1_000_000_000).default(50_000),
  AUTH_FAILURES_PER_MINUTE: intInRange(0, 1_000_000).default(30),
  WS_CONNECTS_PER_MINUTE: intInRange(0, 1_000_000).default(60),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: intInRange(1, 100_000).default(100),
  WS_MAX_SUBSCRIPTIONS_PER_KEY: intInRange(1, 1_000_000).default(1_000),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value, context) => {
      const origins = (value ?? "")
        .split(",")
        .map((origin) => origin.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!isOrigin(origin))
          context.addIssue({ code: "custom", message: `${origin} is not an origin (scheme://host[:port])` });
      }
      return origins;
    }),
  /** Bearer token `GET /metrics` requires; unset leaves the endpoint open (e.g. behind a private network). */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  TENANT_MAX_CONCURRENT_JOBS: intInRange(1, 10_000).default(4),
  TENANT_MAX_STORAGE_BYTES: z.preprocess(
    (value) => (value === "" ? undefined : value),
    intInRange(0, Number.MAX_SAFE_INTEGER).optional(),
  ),
  TENANT_MAX_VIDEOS_PER_MONTH: z.preprocess(
    (value) => (value === "" ? undefined : value),
    intInRange(0, 10_000_000).optional(),
  ),
});

/** `scheme://host[:port]` exactly as a browser sends it in `Origin` (no path, no trailing slash). */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

export type Role = "all" | "api" | "worker";

/**
 * Local renders at once (and media worker threads per process) when RENDER_CONCURRENCY is
 * unset: a core each in a process that only works (`--role worker`, the CLI's `render`), one
 * fewer in `--role all`, whose API answers on the same machine. Measured on 2 cores (`npm run
 * bench -- api-under-render`): a trivial query's p99 during a 7-scene render 14–17 ms with one
 * render at a time, 19–31 ms with two; the render alone takes 22 s instead of 20.
 */
export function defaultRenderConcurrency(role: Role, cores = os.availableParallelism()): number {
  return Math.max(1, role === "all" ? cores - 1 : cores);
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /** HMAC secret for signed URLs; from PROPVID_SECRET or generated once in the data dir. */
  secret: string;
  logLevel: string;
  nodeEnv: "development" | "production" | "test";
  isProduction: boolean;
  publicBaseUrl: string;
  /** True when PUBLIC_BASE_URL was set, i.e. the outside world (a provider) can reach us. */
  publicBaseUrlConfigured: boolean;
  role: Role;
  renderConcurrency: number;
  /** Niceness of the encoders the media worker threads start: the API wins the CPU. */
  renderNice: number;
  maxUploadBytes: number;
  maxImagePixels: number;
  rateLimitPerMinute: number;
  http: {
    /** The whole request head must arrive within this. */
    headersTimeoutMs: number;
    /** A connection silent this long (no bytes either way) is closed; an upload's body stalled this long fails. */
    idleTimeoutMs: number;
    /** The whole request, body included, must arrive within this (0: no limit). */
    requestTimeoutMs: number;
  };
  uploads: {
    /** Photo uploads (signed PUT or multipart) running at once in this process; more get 429. */
    concurrency: number;
    /** …and per API key (for a signed URL: per tenant, the URL carries no key). */
    concurrencyPerKey: number;
  };
  /** After SIGTERM/SIGINT the process exits within this, non-zero if it had to cut shutdown short. */
  shutdownTimeoutMs: number;
  /** Parent of the per-process work directories (photos and clips being rendered). */
  workDir: string;
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  /** The process PATH, where ffmpeg/ffprobe are looked for before the bundled binaries. */
  searchPath: string | undefined;
  allowLoopbackFetch: boolean;
  replicate: {
    apiToken: string | undefined;
    baseUrl: string;
    webhookSecret: string | undefined;
    /** How often a waiting adapter asks for a prediction's state when no webhook wakes it; unset: the adapter's default. */
    pollIntervalMs: number | undefined;
    /** Hosts prediction outputs may be downloaded from (`*.domain` for subdomains), through the SSRF guard. */
    outputHosts: readonly string[];
  };
  xai: { apiKey: string | undefined; baseUrl: string; model: string };
  /** Guards applied to every GraphQL operation, whatever the transport, and to connections. */
  limits: {
    /** Largest cost one operation may have (computed before execution; see README). */
    maxQueryCost: number;
    /** Cost units per API key per minute (0: no budget). */
    costPerMinute: number;
    /** Failed authentications per source address per minute before it is refused for a while. */
    authFailuresPerMinute: number;
    /** WebSocket connects per source address per minute. */
    wsConnectsPerMinute: number;
    maxSubscriptionsPerSocket: number;
    maxSubscriptionsPerKey: number;
  };
  /** Origins allowed to call the API from a browser (CORS); empty: no cross-origin access. */
  corsOrigins: readonly string[];
  /** Bearer token for `GET /metrics`; undefined: the endpoint is open. */
  metricsToken: string | undefined;
  /** Quotas of a tenant that has none of its own (`propvid tenants set-quota`); null: unlimited. */
  tenantDefaults: { concurrentJobs: number; storageBytes: number | null; videosPerMonth: number | null };
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Parses and validates settings. Pure apart from the secret, which `resolveSecret` supplies. */
export function parseConfig(env: Env, options: { secret?: (dataDir: string) => string } = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const e = parsed.data;
  if (e.PROPVID_TEST_ALLOW_LOOPBACK_FETCH && e.NODE_ENV === "production") {
    throw new ConfigError([
      "PROPVID_TEST_ALLOW_LOOPBACK_FETCH: is a test setting and cannot be on in production",
    ]);
  }
  if (e.HTTP_REQUEST_TIMEOUT_MS > 0 && e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(["HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS"]);
  }
  if (e.GRAPHQL_COST_PER_MINUTE > 0 && e.GRAPHQL_COST_PER_MINUTE < e.GRAPHQL_MAX_COST) {
    throw new ConfigError([
      "GRAPHQL_COST_PER_MINUTE: must be 0 (off) or at least GRAPHQL_MAX_COST, or the costliest allowed query could never run",
    ]);
  }
  const dataDir = path.resolve(e.PROPVID_DATA_DIR);
  const urlHost = e.HOST.includes(":") ? `[${e.HOST}]` : e.HOST;
  const secret = e.PROPVID_SECRET ?? (options.secret ?? resolveSecret)(dataDir);
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    secret,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
    isProduction: e.NODE_ENV === "production",
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://${urlHost}:${e.PORT}`,
    publicBaseUrlConfigured: e.PUBLIC_BASE_URL !== undefined,
    role: e.PROPVID_ROLE,
    renderConcurrency: e.RENDER_CONCURRENCY ?? defaultRenderConcurrency(e.PROPVID_ROLE),
    renderNice: e.RENDER_NICE,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxImagePixels: e.MAX_IMAGE_PIXELS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    http: Object.freeze({
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    }),
    uploads: Object.freeze({
      concurrency: e.UPLOAD_CONCURRENCY,
      concurrencyPerKey: e.UPLOAD_CONCURRENCY_PER_KEY,
    }),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workDir: e.PROPVID_WORK_DIR ? path.resolve(e.PROPVID_WORK_DIR) : path.join(dataDir, "work"),
    ffmpegPath: e.FFMPEG_PATH,
    ffprobePath: e.FFPROBE_PATH,
    searchPath: e.PATH,
    allowLoopbackFetch: e.PROPVID_TEST_ALLOW_LOOPBACK_FETCH,
    replicate: Object.freeze({
      apiToken: e.REPLICATE_API_TOKEN,
      baseUrl: e.REPLICATE_BASE_URL,
      webhookSecret: e.REPLICATE_WEBHOOK_SECRET,
      pollIntervalMs: e.REPLICATE_POLL_INTERVAL_MS,
      outputHosts: Object.freeze(e.REPLICATE_OUTPUT_HOSTS),
    }),
    xai: Object.freeze({ apiKey: e.XAI_API_KEY, baseUrl: e.XAI_BASE_URL, model: e.XAI_MODEL }),
    limits: Object.freeze({
      maxQueryCost: e.GRAPHQL_MAX_COST,
      costPerMinute: e.GRAPHQL_COST_PER_MINUTE,
      authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
      wsConnectsPerMinute: e.WS_CONNECTS_PER_MINUTE,
      maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxSubscriptionsPerKey: e.WS_MAX_SUBSCRIPTIONS_PER_KEY,
    }),
    corsOrigins: Object.freeze([...e.CORS_ORIGINS]),
    metricsToken: e.METRICS_TOKEN,
    tenantDefaults: Object.freeze({
      concurrentJobs: e.TENANT_MAX_CONCURRENT_JOBS,
      storageBytes: e.TENANT_MAX_STORAGE_BYTES ?? null,
      videosPerMonth: e.TENANT_MAX_VIDEOS_PER_MONTH ?? null,
    }),
  });
}

/** Reads the process environment; the one place that does. */
export function loadConfig(overrides: Env = {}): Config {
  return parseConfig({ ...process.env, ...overrides });
}

/** A copy of the environment for child processes we spawn (tests, multi-process runs). */
export function environmentForChild(overrides: Env): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}

/** The server secret kept in the data dir: generated once (256 bits), mode 0600. */
export function resolveSecret(dataDir: string): string {
  const file = path.join(dataDir, "secret");
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw error;
  }
}
