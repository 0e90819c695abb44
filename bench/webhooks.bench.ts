/**
 * Partner webhooks (issue 13): how soon a receiver hears of a job's final commit, and how many
 * deliveries per second one process sends to a fast receiver. The app runs here (role all:
 * pg-boss workers deliver) on an embedded PostgreSQL; the receiver is a loopback HTTP server
 * in this process that verifies every delivery with the `standardwebhooks` package, so both
 * ends read one clock.
 * - latency: jobs written straight into QUEUED (no render) are cancelled one at a time through
 *   the state machine; the clock starts when the cancellation's transaction has committed
 *   (VIDEO_JOB_CANCELLED is written by the same final-transition path as SUCCEEDED) and stops
 *   when the receiver has the request;
 * - throughput: 1,000 messages written in one transaction, timed until the last has arrived.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { silentLogger } from "../src/logger.js";
import { embeddedJobOptions } from "../test/helpers/pipeline.js";
import { WebhookReceiver } from "../test/helpers/webhook-receiver.js";
import { startBenchApp } from "./bench-app.js";
import type { Benchmark } from "./benchmarks.js";

const LATENCY_JOBS = 200;
const THROUGHPUT_MESSAGES = 1_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(): Promise<string[]> {
  const lines: string[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-webhooks-bench-"));
  chmodSync(scratch, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(scratch, "postgres"),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off", max_connections: 100 },
  });
  const receiver = new WebhookReceiver();
  const url = await receiver.start();
  // The tests-only loopback setting lets the app deliver to the receiver on 127.0.0.1.
  const app = await startBenchApp({
    databaseUrl: server.url,
    role: "all",
    env: { NODE_ENV: "test", PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "true" },
    poolSize: 10,
    bossPoolSize: 4,
  });
  const { services } = app;
  try {
    const { tenant } = await services.tenants.createKeyForTenant("bench", "bench key", ["admin"]);
    const campaign = await services.campaigns.create(tenant.id, { name: "bench house" });
    const { endpoint, secret } = await services.webhookEndpoints.create(tenant.id, {
      url,
      events: ["VIDEO_JOB_CANCELLED"],
    });
    receiver.secrets.push(secret);
    const arrivals = new Map<string, number>();
    receiver.onRequest = (request) => arrivals.set(JSON.parse(request.body).data.id, performance.now());

    // 1. Latency: final commit → receiver.
    const jobIds = await services.dataSource.transaction(async (manager) => {
      const ids: string[] = [];
      for (let i = 0; i < LATENCY_JOBS; i++) {
        const job = await services.jobStates.insertQueued(manager, {
          tenantId: tenant.id,
          campaignId: campaign.id,
          options: embeddedJobOptions(1),
          inputHash: `bench-${i}`,
          estimatedCost: [],
        });
        ids.push(job.id);
      }
      return ids;
    });
    const committed = new Map<string, number>();
    for (const jobId of jobIds) {
      await services.jobStates.cancel(jobId);
      committed.set(jobId, performance.now());
      await sleep(20);
    }
    await receiver.waitFor(LATENCY_JOBS, undefined, 60_000);
    const latencies = jobIds.map((id) => arrivals.get(id)! - committed.get(id)!).sort((a, b) => a - b);
    const unverified = receiver.received.filter((request) => request.verifiedWith.length === 0).length;
    lines.push(
      `latency, final commit → receiver (${LATENCY_JOBS} jobs, one every 20 ms): p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms (goal: p99 ≤ 1000 ms)`,
    );

    // 2. Throughput: a burst of messages to a fast receiver.
    const before = receiver.received.length;
    const started = performance.now();
    await services.dataSource.transaction(async (manager) => {
      for (let i = 0; i < THROUGHPUT_MESSAGES; i++) {
        await services.webhookOutbox.record(
          manager,
          { tenantId: tenant.id, name: "webhook.test", data: { id: `burst-${i}` } },
          { endpointId: endpoint.id },
        );
      }
    });
    const written = performance.now();
    await receiver.waitFor(before + THROUGHPUT_MESSAGES, undefined, 300_000);
    const seconds = (performance.now() - written) / 1000;
    lines.push(
      `throughput: ${THROUGHPUT_MESSAGES} messages (written in ${((written - started) / 1000).toFixed(1)} s, one transaction) ` +
        `delivered in ${seconds.toFixed(1)} s = ${(THROUGHPUT_MESSAGES / seconds).toFixed(0)} deliveries/s ` +
        "(one process, webhook.deliver localConcurrency 8)",
    );
    const allUnverified = receiver.received.filter((request) => request.verifiedWith.length === 0).length;
    lines.push(
      `deliveries that failed standardwebhooks verification: ${Math.max(unverified, allUnverified)}`,
    );
    return lines;
  } finally {
    await app.stop();
    await receiver.stop();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const webhooksBenchmark: Benchmark = {
  name: "webhooks",
  description: "partner webhook latency (final commit → receiver) and deliveries per second",
  run,
};
