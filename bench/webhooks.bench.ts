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
 * - throughput: 1,000 messages committed one per transaction by 4 writers (as job ends come), and
 *   1,000 written in one transaction, each timed from the first write until the last has arrived.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EntityManager } from "typeorm";
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
    lines.push(
      `latency, final commit → receiver (${LATENCY_JOBS} jobs, one every 20 ms): p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms (goal: p99 ≤ 1000 ms)`,
    );

    // 2. Throughput to a fast receiver: messages committed one per transaction (as job ends are,
    // each with its NOTIFY), then the same number written in one transaction (one NOTIFY: the
    // workers find the rest by polling).
    type Record = (manager: EntityManager, i: number) => Promise<void>;
    const burst = async (label: string, write: (record: Record) => Promise<void>) => {
      const before = receiver.received.length;
      const started = performance.now();
      await write(async (manager, i) => {
        await services.webhookOutbox.record(
          manager,
          { tenantId: tenant.id, name: "webhook.test", data: { id: `${label}-${i}` } },
          { endpointId: endpoint.id },
        );
      });
      const written = performance.now();
      await receiver.waitFor(before + THROUGHPUT_MESSAGES, undefined, 300_000);
      const seconds = (performance.now() - started) / 1000;
      lines.push(
        `throughput, ${label}: ${THROUGHPUT_MESSAGES} messages (written in ${((written - started) / 1000).toFixed(1)} s) ` +
          `all delivered ${seconds.toFixed(1)} s after the first write = ${(THROUGHPUT_MESSAGES / seconds).toFixed(0)} deliveries/s`,
      );
    };
    await burst("one transaction each, 4 writers", async (record) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < THROUGHPUT_MESSAGES)
            await services.dataSource.transaction((manager) => record(manager, next++));
        }),
      );
    });
    await burst("all in one transaction", async (record) => {
      await services.dataSource.transaction(async (manager) => {
        for (let i = 0; i < THROUGHPUT_MESSAGES; i++) await record(manager, i);
      });
    });
    const allUnverified = receiver.received.filter((request) => request.verifiedWith.length === 0).length;
    lines.push(`deliveries that failed standardwebhooks verification: ${allUnverified}`);
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
