import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { signWebhook } from "../../src/providers/replicate/webhook-signature.js";

const run = promisify(execFile);

/** What the fake knows of each model: input names, allowed durations, native size. */
const MODELS: Record<
  string,
  { first: string; durations: number[]; size: [number, number]; kind: "video" | "audio" }
> = {
  "google/veo-3.1-fast": { first: "image", durations: [4, 6, 8], size: [1280, 720], kind: "video" },
  "google/veo-3.1": { first: "image", durations: [4, 6, 8], size: [1280, 720], kind: "video" },
  "minimax/hailuo-02": { first: "first_frame_image", durations: [6, 10], size: [1366, 768], kind: "video" },
  "kwaivgi/kling-v2.1": { first: "start_image", durations: [5, 10], size: [1920, 1080], kind: "video" },
  "meta/musicgen": { first: "", durations: [], size: [0, 0], kind: "audio" },
};
const MUSICGEN_VERSION = "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb";

export interface FakePrediction {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  status: string;
  output: string | null;
  error: string | null;
  logs: string;
  webhook?: string;
  webhook_events_filter?: string[];
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  urls: { get: string; cancel: string };
  metrics: { predict_time?: number };
}

export interface FakeReplicateOptions {
  token: string;
  ffmpeg: string;
  /** Signs webhooks (`whsec_<base64>`); none sent without it. */
  webhookSecret?: string;
  /** How long a prediction "runs" before its output is made. */
  renderDelayMs?: number;
  /** Makes one output per model and duration and serves it to every prediction (benchmarks: less CPU). */
  cacheOutputs?: boolean;
}

/**
 * A local server speaking Replicate's HTTP API (the parts the adapters use): create (official
 * models by name, others by version), get, cancel, list; input validation with 422s; inputs
 * FETCHED like Replicate does (a URL that does not answer 200 with an image fails the
 * prediction); real outputs (MP4 from testsrc at the model's size, 24 fps; WAV for MusicGen)
 * served as URLs; Standard Webhooks-signed `completed` webhooks.
 */
export class FakeReplicate {
  readonly predictions = new Map<string, FakePrediction>();
  readonly creates: { model: string; headers: IncomingMessage["headers"]; body: Record<string, unknown> }[] =
    [];
  readonly fetchedInputs: { url: string; status: number; bytes: number }[] = [];
  /** Every webhook sent: the answer, and when (performance.now()) it was sent and answered. */
  readonly webhooksSent: {
    url: string;
    status: number;
    predictionId: string;
    sentAt: number;
    answeredAt: number;
  }[] = [];
  /** Every GET of a prediction: when (performance.now()) and what it answered. */
  readonly gets: { id: string; status: string; at: number }[] = [];
  /** When each prediction finished (performance.now()); its webhook is sent at that moment. */
  readonly finishedAt = new Map<string, number>();
  /** Every API request (not output downloads), in order: what a retry policy costs. */
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Next N creates answer 503. */
  failCreates = 0;
  /** Next N prediction GETs answer 503. */
  failGets = 0;
  /** Next N predictions fail with a safety-filter error. */
  moderationFailures = 0;
  /** Predictions (by id) that never finish until cancelled. */
  hang = false;
  renderDelayMs: number;
  private server!: Server;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), "fake-replicate-"));
  private readonly pending = new Set<Promise<void>>();
  private readonly outputs = new Map<string, string>();
  url = "";

  constructor(private readonly options: FakeReplicateOptions) {
    this.renderDelayMs = options.renderDelayMs ?? 50;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        res
          .writeHead(500, { "content-type": "application/json" })
          .end(JSON.stringify({ detail: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  async close(): Promise<void> {
    this.hang = false;
    await Promise.allSettled([...this.pending]);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A prediction as another process of ours would have created it (crash before storing its id). */
  async createDirect(model: string, body: Record<string, unknown>): Promise<FakePrediction> {
    return this.startPrediction(model, "", body);
  }

  /** Resolves when no prediction is running. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const json = (status: number, body: unknown): void => {
      if (url.pathname.startsWith("/v1/"))
        this.requests.push({ method: req.method ?? "", path: url.pathname, status });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (url.pathname.startsWith("/files/")) {
      const file = path.join(this.dir, path.basename(url.pathname));
      try {
        const bytes = readFileSync(file);
        res
          .writeHead(200, {
            "content-type": file.endsWith(".wav") ? "audio/wav" : "video/mp4",
            "content-length": bytes.length,
          })
          .end(bytes);
      } catch {
        json(404, { detail: "Not found" });
      }
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.options.token}`)
      return json(401, {
        title: "Unauthenticated",
        detail: "You did not pass a valid authentication token",
        status: 401,
      });
    const body = req.method === "POST" ? await readJson(req) : {};
    const modelRoute = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(url.pathname);
    const predictionRoute = /^\/v1\/predictions\/([^/]+)(\/cancel)?$/.exec(url.pathname);
    if (req.method === "POST" && modelRoute) {
      const match = modelRoute;
      const model = `${match[1]}/${match[2]}`;
      if (model === "meta/musicgen")
        return json(404, {
          title: "Not found",
          detail: "meta/musicgen is not an official model: pass a version",
          status: 404,
        });
      return await this.create(model, "", req, body, json);
    }
    if (req.method === "POST" && url.pathname === "/v1/predictions") {
      const version = String(body.version ?? "");
      if (version !== MUSICGEN_VERSION)
        return json(422, {
          title: "Invalid version",
          detail: "The specified version does not exist (or perhaps you don't have permission to use it?)",
          status: 422,
        });
      return await this.create("meta/musicgen", version, req, body, json);
    }
    if (req.method === "GET" && url.pathname === "/v1/predictions") {
      const results = [...this.predictions.values()].reverse().map(publicView);
      return json(200, { next: null, previous: null, results });
    }
    if (predictionRoute) {
      const match = predictionRoute;
      const prediction = this.predictions.get(match[1]!);
      if (!prediction) return json(404, { title: "Not found", detail: "Not found", status: 404 });
      if (req.method === "POST" && match[2]) {
        if (!isTerminal(prediction.status)) this.finish(prediction, "canceled", null, null);
        return json(200, publicView(prediction));
      }
      if (req.method === "GET" && !match[2]) {
        this.gets.push({ id: prediction.id, status: prediction.status, at: performance.now() });
        if (this.failGets > 0) {
          this.failGets -= 1;
          return json(503, { title: "Service Unavailable", detail: "Temporarily unavailable", status: 503 });
        }
        return json(200, publicView(prediction));
      }
    }
    json(404, { detail: "Not found" });
  }

  private async create(
    model: string,
    version: string,
    req: IncomingMessage,
    body: Record<string, unknown>,
    json: (status: number, body: unknown) => void,
  ): Promise<void> {
    this.creates.push({ model, headers: req.headers, body });
    if (this.failCreates > 0) {
      this.failCreates -= 1;
      return json(503, { title: "Service Unavailable", detail: "Temporarily unavailable", status: 503 });
    }
    const spec = MODELS[model];
    if (!spec) return json(404, { title: "Not found", detail: `Model ${model} not found`, status: 404 });
    const input = (body.input ?? {}) as Record<string, unknown>;
    const problems: string[] = [];
    if (spec.kind === "video") {
      if (!spec.durations.includes(Number(input.duration)))
        problems.push(`duration: must be one of ${spec.durations.join(", ")}`);
      if (typeof input[spec.first] !== "string") problems.push(`${spec.first}: required`);
      if (model.startsWith("google/") && input.generate_audio !== false)
        problems.push("generate_audio: expected false for this test");
      if (model === "kwaivgi/kling-v2.1" && input.end_image && input.mode !== "pro")
        problems.push("end_image requires mode pro");
    } else {
      const duration = Number(input.duration);
      if (!(duration >= 1 && duration <= 30)) problems.push("duration: must be between 1 and 30");
      if (input.continuation && typeof input.input_audio !== "string")
        problems.push("input_audio: required for continuation");
    }
    if (problems.length)
      return json(422, { title: "Input validation failed", detail: problems.join("; "), status: 422 });
    if (body.webhook !== undefined && !/^https?:\/\//.test(String(body.webhook)))
      return json(422, { detail: "webhook: invalid URL", status: 422 });
    const prediction = this.startPrediction(model, version, body);
    json(201, publicView(prediction));
  }

  private startPrediction(model: string, version: string, body: Record<string, unknown>): FakePrediction {
    const id = randomBytes(13).toString("hex").slice(0, 26);
    const prediction: FakePrediction = {
      id,
      model,
      version,
      input: (body.input ?? {}) as Record<string, unknown>,
      status: "starting",
      output: null,
      error: null,
      logs: "",
      webhook: body.webhook as string | undefined,
      webhook_events_filter: body.webhook_events_filter as string[] | undefined,
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
      urls: { get: `${this.baseUrl}/predictions/${id}`, cancel: `${this.baseUrl}/predictions/${id}/cancel` },
      metrics: {},
    };
    this.predictions.set(id, prediction);
    const work = this.work(prediction).catch((error) => {
      if (!isTerminal(prediction.status)) this.finish(prediction, "failed", null, String(error));
    });
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return prediction;
  }

  private async work(prediction: FakePrediction): Promise<void> {
    const spec = MODELS[prediction.model]!;
    await sleep(5);
    if (isTerminal(prediction.status)) return;
    prediction.status = "processing";
    prediction.started_at = new Date().toISOString();
    // Like Replicate: inputs given as URLs are downloaded by the platform before the model runs.
    for (const [name, value] of Object.entries(prediction.input)) {
      if (typeof value !== "string") continue;
      if (/^https?:\/\//.test(value)) {
        const response = await fetch(value).catch(() => null);
        const bytes = response?.ok ? Buffer.from(await response.arrayBuffer()) : Buffer.alloc(0);
        this.fetchedInputs.push({ url: value, status: response?.status ?? 0, bytes: bytes.length });
        if (!response?.ok || bytes.length === 0)
          return this.finish(
            prediction,
            "failed",
            null,
            `Could not download ${name}: HTTP ${response?.status ?? "error"}`,
          );
      } else if (value.startsWith("data:")) {
        if (!/^data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+$/.test(value))
          return this.finish(prediction, "failed", null, `${name}: malformed data URI`);
      }
    }
    if (this.moderationFailures > 0 && spec.kind === "video") {
      this.moderationFailures -= 1;
      return this.finish(
        prediction,
        "failed",
        null,
        "The input or output was flagged as sensitive by the safety filter (E005)",
      );
    }
    const started = Date.now();
    while (this.hang && !isTerminal(prediction.status)) await sleep(20);
    await sleep(this.renderDelayMs);
    if (isTerminal(prediction.status)) return;
    const seconds = Number(prediction.input.duration);
    const cacheKey = `${prediction.model}:${seconds}`;
    const file =
      (this.options.cacheOutputs && this.outputs.get(cacheKey)) ||
      (await this.makeOutput(prediction, seconds));
    if (this.options.cacheOutputs) this.outputs.set(cacheKey, file);
    if (isTerminal(prediction.status)) return;
    prediction.metrics = { predict_time: (Date.now() - started) / 1000 };
    this.finish(prediction, "succeeded", `${this.url}/files/${path.basename(file)}`, null);
  }

  /** A real output: an MP4 from testsrc at the model's size, or a WAV tone for MusicGen. */
  private async makeOutput(prediction: FakePrediction, seconds: number): Promise<string> {
    const spec = MODELS[prediction.model]!;
    const [w, h] = spec.size;
    const freq = 220 + (this.predictions.size % 5) * 55;
    const [source, encoding, extension] =
      spec.kind === "video"
        ? [
            `testsrc2=size=${w}x${h}:rate=24:duration=${seconds}`,
            ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
            "mp4",
          ]
        : [
            `sine=frequency=${freq}:sample_rate=32000:duration=${seconds}`,
            ["-af", "volume=0.3", "-ac", "2", "-c:a", "pcm_s16le"],
            "wav",
          ];
    const file = path.join(this.dir, `${prediction.id}.${extension}`);
    await run(this.options.ffmpeg, [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      source,
      ...encoding,
      file,
    ]);
    return file;
  }

  private finish(
    prediction: FakePrediction,
    status: string,
    output: string | null,
    error: string | null,
  ): void {
    prediction.status = status;
    prediction.output = output;
    prediction.error = error;
    prediction.completed_at = new Date().toISOString();
    this.finishedAt.set(prediction.id, performance.now());
    if (prediction.webhook) void this.sendWebhook(prediction);
  }

  /** Sends a signed webhook for a prediction now (tests also replay and reorder them). */
  async sendWebhook(
    prediction: FakePrediction,
    overrides: { id?: string; timestamp?: number; body?: unknown } = {},
  ): Promise<{ status: number; id: string; timestamp: number; body: string }> {
    const id = overrides.id ?? `msg_${randomBytes(12).toString("hex")}`;
    const timestamp = overrides.timestamp ?? Math.floor(Date.now() / 1000);
    const body = JSON.stringify(overrides.body ?? publicView(prediction));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
    };
    if (this.options.webhookSecret)
      headers["webhook-signature"] = signWebhook(this.options.webhookSecret, id, timestamp, body);
    const sentAt = performance.now();
    const response = await fetch(prediction.webhook!, { method: "POST", headers, body }).catch(() => null);
    this.webhooksSent.push({
      url: prediction.webhook!,
      status: response?.status ?? 0,
      predictionId: prediction.id,
      sentAt,
      answeredAt: performance.now(),
    });
    return { status: response?.status ?? 0, id, timestamp, body };
  }
}

function publicView(prediction: FakePrediction): Omit<FakePrediction, never> {
  return { ...prediction };
}

function isTerminal(status: string): boolean {
  return status === "succeeded" || status === "failed" || status === "canceled";
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes nothing real: a fake secret in `whsec_` form for tests. */
export function fakeWebhookSecret(): string {
  return `whsec_${Buffer.from("test-webhook-secret-not-real").toString("base64")}`;
}

/** Where the fake serves outputs: loopback, which a client must be told it may download from. */
export const FAKE_REPLICATE_OUTPUTS = {
  hosts: ["127.0.0.1"],
  policy: { allowedPorts: [80, 443], allowLoopbackForTests: true },
} as const;
