/**
 * Subscription benchmarks (issue: live progress over WebSocket):
 * - latency from appending a job event to a client receiving it: API in this process vs an API
 *   in another process (`serve --role api`), both on one embedded Postgres, loopback;
 * - fan-out: 500 subscribers (one socket each) on one job, 100 events: all delivered in order,
 *   latency percentiles, and the API process's RSS per subscriber.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import type { Services } from "../src/container.js";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { VideoJobEntity } from "../src/db/entities/index.js";
import { appendJobEvent } from "../src/events/job-events.js";
import { silentLogger } from "../src/logger.js";
import { embeddedJobOptions } from "../test/helpers/pipeline.js";
import { childEnv, type ServerProcess, startServerProcess } from "../test/helpers/server-process.js";
import { startBenchApp } from "./bench-app.js";
import type { Benchmark } from "./benchmarks.js";

const QUERY =
  "subscription($j: ID!, $a: Int) { videoJobProgress(jobId: $j, afterSequence: $a) { sequence type job { id status } } }";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Subscriber {
  client: Client;
  received: Map<number, number>;
  order: number[];
}

function subscriber(url: string, key: string, jobId: string, afterSequence: number): Subscriber {
  const client = createClient({
    url: `${url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: key },
    retryAttempts: 0,
  });
  const sub: Subscriber = { client, received: new Map(), order: [] };
  client.subscribe<{ videoJobProgress: { sequence: number } }>(
    { query: QUERY, variables: { j: jobId, a: afterSequence } },
    {
      next: (result) => {
        const sequence = result.data?.videoJobProgress.sequence;
        if (sequence === undefined) return;
        sub.received.set(sequence, performance.now());
        sub.order.push(sequence);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return sub;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

async function lastSequence(services: Services, jobId: string): Promise<number> {
  return (await services.dataSource.getRepository(VideoJobEntity).findOneByOrFail({ id: jobId }))
    .lastSequence;
}

/** Appends `count` events `gapMs` apart; returns when each was started (performance.now()) by sequence. */
async function appendEvents(
  services: Services,
  jobId: string,
  count: number,
  gapMs: number,
): Promise<Map<number, number>> {
  const sent = new Map<number, number>();
  let next = (await lastSequence(services, jobId)) + 1;
  for (let i = 0; i < count; i++) {
    sent.set(next, performance.now());
    const sequence = await appendJobEvent(services.dataSource, jobId, { type: "JOB_UPDATED" });
    if (sequence !== next) throw new Error(`expected sequence ${next}, got ${sequence}`);
    next++;
    await sleep(gapMs);
  }
  return sent;
}

async function latencyRun(services: Services, url: string, key: string, jobId: string): Promise<number[]> {
  const from = await lastSequence(services, jobId);
  const sub = subscriber(url, key, jobId, from);
  // Warm up: the subscription is live once it has received an event.
  await appendJobEvent(services.dataSource, jobId, { type: "JOB_UPDATED" });
  await waitFor(() => sub.received.size === 1, 10_000, "warm-up event");
  const sent = await appendEvents(services, jobId, 200, 10);
  await waitFor(() => sub.received.size === 201, 10_000, "all latency events");
  await sub.client.dispose();
  return [...sent].map(([sequence, at]) => sub.received.get(sequence)! - at);
}

async function run(): Promise<string[]> {
  const lines: string[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-subscriptions-bench-"));
  chmodSync(scratch, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(scratch, "postgres"),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off", max_connections: 200 },
  });
  // The API in this process: HTTP and WebSocket, no workers (events are appended by the bench).
  const app = await startBenchApp({
    databaseUrl: server.url,
    role: "api",
    env: { HOST: "127.0.0.1", PORT: "0", RATE_LIMIT_PER_MINUTE: "100000" },
    poolSize: 10,
    bossPoolSize: 2,
  });
  const { services } = app;
  const { dataSource } = services;
  let child: ServerProcess | undefined;
  try {
    const local = app.address!;
    const { key, tenant } = await services.tenants.createKeyForTenant("bench", "bench key", ["read"]);
    const campaign = await services.campaigns.create(tenant.id, { name: "bench house" });
    const newJob = async () =>
      await dataSource.getRepository(VideoJobEntity).save(
        dataSource.getRepository(VideoJobEntity).create({
          tenantId: tenant.id,
          campaignId: campaign.id,
          status: "RENDERING",
          inputHash: "bench",
          options: embeddedJobOptions(1),
        }),
      );

    child = await startServerProcess(
      childEnv({
        DATABASE_URL: server.url,
        PROPVID_DATA_DIR: path.join(scratch, "data"),
        LOG_LEVEL: "info",
        NODE_OPTIONS: process.env.CHILD_NODE_OPTIONS,
      }),
      ["--role", "api"],
    );

    // 1. Latency, one subscriber: API here vs API in another process.
    const inProcess = await latencyRun(services, local, key, (await newJob()).id);
    lines.push(`event latency, append → client, API in this process (200 events): ${summary(inProcess)}`);
    const crossProcess = await latencyRun(services, child.url, key, (await newJob()).id);
    lines.push(
      `event latency, append → client, API in another process (200 events): ${summary(crossProcess)}`,
    );

    // 2. Fan-out: 500 subscribers, one socket each, on one job in the other process.
    const job = await newJob();
    const pid = child.child.pid!;
    const rssBefore = rssOf(pid);
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < 500; i++) subscribers.push(subscriber(child.url, key, job.id, 0));
    await appendJobEvent(dataSource, job.id, { type: "JOB_UPDATED" });
    await waitFor(
      () => subscribers.every((sub) => sub.received.size === 1),
      60_000,
      "500 subscribers warmed up",
    );
    await sleep(500);
    const rssAfter = rssOf(pid);
    for (const gapMs of [100, 20]) {
      const cpuBefore = cpuSecondsOf(pid);
      const started = performance.now();
      const seen = subscribers.map((sub) => sub.order.length);
      const sent = await appendEvents(services, job.id, 100, gapMs);
      await waitFor(
        () => subscribers.every((sub, i) => sub.order.length === seen[i]! + 100),
        30_000,
        "fan-out delivery",
      ).catch(() => undefined);
      const wall = (performance.now() - started) / 1000;
      const serverCpu = cpuSecondsOf(pid) - cpuBefore;
      const expected = [...sent.keys()].join(",");
      const inOrder = subscribers.filter((sub, i) => sub.order.slice(seen[i]).join(",") === expected).length;
      const latencies: number[] = [];
      for (const sub of subscribers)
        for (const [sequence, at] of sent) {
          const received = sub.received.get(sequence);
          if (received !== undefined) latencies.push(received - at);
        }
      lines.push(
        `fan-out, 500 subscribers × 100 events ${gapMs} ms apart (${Math.round((500 * 1000) / gapMs)} deliveries/s): ` +
          `${latencies.length}/50000 delivered (${((latencies.length / 50_000) * 100).toFixed(1)} %), ${inOrder}/500 complete and in order; ` +
          `${summary(latencies)}; API process CPU ${serverCpu.toFixed(1)} s over ${wall.toFixed(1)} s`,
      );
    }
    lines.push(
      `API process RSS: ${(rssBefore / 2 ** 20).toFixed(1)} MiB idle → ${(rssAfter / 2 ** 20).toFixed(1)} MiB with 500 subscribers ` +
        `(${((rssAfter - rssBefore) / 500 / 1024).toFixed(1)} KiB per subscriber)`,
    );
    await Promise.all(subscribers.map((sub) => sub.client.dispose()));
  } finally {
    await child?.stop("SIGTERM");
    await app.stop({ graceful: false });
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return lines;
}

export const subscriptionsBenchmark: Benchmark = {
  name: "subscriptions",
  description: "job event latency (in one process vs across processes) and fan-out to 500 subscribers",
  run,
};
