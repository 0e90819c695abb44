import type { PgBoss } from "pg-boss";
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import type { DataSource } from "typeorm";
import type { JobStatus } from "../db/entities/video-job.entity.js";

/** What the video job's transitions report to `/metrics` (per process; Prometheus sums the processes). */
export interface JobMetrics {
  jobCreated(): void;
  /** A job reached a final status here; `seconds` from its creation, when known. */
  jobEnded(status: JobStatus, seconds?: number): void;
}

/** One registry's metrics as `getMetricsAsJSON()` gives them (what a job process sends its parent). */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** A webhook delivery's outcome, as the delivery code reports it. */
export type WebhookDeliveryResult = "success" | "failure" | "dead";

/**
 * The process's Prometheus metrics (`GET /metrics`), in a registry of its own. Two kinds:
 * - **per process** (counters and histograms this process observes; Prometheus sums the
 *   processes): HTTP durations, GraphQL operations, jobs by the status they reached here, job
 *   durations, scene render times, webhook deliveries, and this API's live subscriptions;
 * - **cluster-wide, read from the database at scrape time** (the same figure from every process;
 *   aggregate with `max`, not `sum`): queue depth from pg-boss, provider cost from the recorded
 *   usage facts, stored bytes from the tenants' counters. Counting these in memory would lose
 *   what other processes (or a crashed one) did.
 *
 * A `serve --role all` runs its jobs in a child process (src/job-process.ts): the child's
 * registry (scope `part`) holds only what it observes, and the parent's exposition sums it in
 * (`addPart`), so `/metrics` still shows the whole service; the process figures (memory, CPU,
 * event loop) are the API process's.
 */
export class MetricsService implements JobMetrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  private readonly graphqlOperations: Counter<"operation" | "result">;
  private readonly jobs: Counter<"status">;
  private readonly jobDuration: Histogram;
  private readonly sceneRender: Histogram<"provider">;
  private readonly webhookDeliveries: Counter<"result">;

  /** Job processes' registries, summed into this one's exposition. */
  private readonly parts: (() => Promise<MetricsSnapshot>)[] = [];

  constructor(deps: {
    dataSource: DataSource;
    boss: PgBoss;
    subscriptions: () => number;
    /** `part`: a job process's part of its service: no process or cluster-wide figures. */
    scope?: "process" | "part";
  }) {
    const registers = [this.registry];
    const wholeProcess = deps.scope !== "part";
    if (wholeProcess) collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: "propvid_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status code.",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.graphqlOperations = new Counter({
      name: "propvid_graphql_operations_total",
      help: "GraphQL operations by type (query, mutation, subscription) and result (ok, error).",
      labelNames: ["operation", "result"],
      registers,
    });
    this.jobs = new Counter({
      name: "propvid_video_jobs_total",
      help: "Video jobs created (QUEUED) and ended (SUCCEEDED, FAILED, CANCELLED) by this process.",
      labelNames: ["status"],
      registers,
    });
    this.jobDuration = new Histogram({
      name: "propvid_video_job_duration_seconds",
      help: "Time from a video job's creation to its success.",
      buckets: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200],
      registers,
    });
    this.sceneRender = new Histogram({
      name: "propvid_scene_render_seconds",
      help: "Time a video provider took to render one scene's clip.",
      labelNames: ["provider"],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: "propvid_webhook_deliveries_total",
      help: "Partner webhook delivery attempts by result.",
      labelNames: ["result"],
      registers,
    });
    if (!wholeProcess) return;
    new Gauge({
      name: "propvid_subscriptions_active",
      help: "GraphQL subscriptions (job and campaign watches) this process serves now.",
      registers,
      collect() {
        this.set(deps.subscriptions());
      },
    });
    new Gauge({
      name: "propvid_queue_depth",
      help: "Jobs waiting in each pg-boss queue (pg-boss's counts as of its last monitor pass; cluster-wide).",
      labelNames: ["queue"],
      registers,
      async collect() {
        for (const queue of await deps.boss.getQueues()) this.set({ queue: queue.name }, queue.queuedCount);
      },
    });
    new Counter({
      name: "propvid_provider_cost_usd_total",
      help: "Providers' actual charges in US dollars, from the recorded usage facts (cluster-wide).",
      labelNames: ["provider"],
      registers,
      async collect() {
        const rows: { provider: string; usd: number }[] = await deps.dataSource.query(
          `SELECT provider, sum(provider_cost_usd)::float8 AS usd FROM usage_event
            WHERE kind = 'PROVIDER_CHARGE' AND provider IS NOT NULL GROUP BY provider`,
        );
        // A counter read from the database: its value is the recorded total, not an increment.
        this.reset();
        for (const row of rows) this.inc({ provider: row.provider }, row.usd);
      },
    });
    new Gauge({
      name: "propvid_media_stored_bytes",
      help: "Bytes of media all tenants store (cluster-wide).",
      registers,
      async collect() {
        const [row] = await deps.dataSource.query(
          "SELECT COALESCE(sum(stored_bytes), 0)::float8 AS bytes FROM tenant_storage",
        );
        this.set(row?.bytes ?? 0);
      },
    });
  }

  httpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  graphqlOperation(operation: string, ok: boolean): void {
    this.graphqlOperations.inc({ operation, result: ok ? "ok" : "error" });
  }

  jobCreated(): void {
    this.jobs.inc({ status: "QUEUED" });
  }

  jobEnded(status: JobStatus, seconds?: number): void {
    this.jobs.inc({ status });
    if (status === "SUCCEEDED" && seconds !== undefined) this.jobDuration.observe(seconds);
  }

  sceneRendered(provider: string, seconds: number): void {
    this.sceneRender.observe({ provider }, seconds);
  }

  /** For the partner-webhook delivery code: one call per delivery attempt. */
  webhookDelivered(result: WebhookDeliveryResult): void {
    this.webhookDeliveries.inc({ result });
  }

  /** The Prometheus text exposition of every metric. */
  /** Sums another thread's registry into this one's exposition (read at every scrape). */
  addPart(read: () => Promise<MetricsSnapshot>): void {
    this.parts.push(read);
  }

  /** This registry's metrics, for the thread that sums it in. */
  async snapshot(): Promise<MetricsSnapshot> {
    return (await this.registry.getMetricsAsJSON()) as MetricsSnapshot;
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    if (this.parts.length === 0) {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    }
    // A part that cannot answer (its thread restarting) is left out of this scrape.
    const parts = await Promise.all(this.parts.map((read) => read().catch(() => [])));
    const merged = AggregatorRegistry.aggregate([await this.snapshot(), ...parts]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
