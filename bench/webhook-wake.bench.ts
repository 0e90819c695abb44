/**
 * Webhook wake (issue 9): how soon a `--role worker` process acts on a Replicate webhook that
 * arrived at a `--role api` process, against polling. Both are real `propvid serve` processes
 * on one embedded PostgreSQL; Replicate is the stand-in of the tests (test/helpers/fake-replicate.ts),
 * which also does the timing: from the moment a prediction ends (its webhook is sent to the API)
 * to the worker's next GET of that prediction (counted for the predictions the worker had found
 * still running, i.e. was waiting on).
 * - webhooks: the API verifies, records and NOTIFYs; the worker's polling is set to 10 minutes,
 *   so nothing but the announcement can wake it;
 * - polling: the API refuses the (unsigned) webhooks and the worker polls every 2 s, the adapters'
 *   own interval when no webhook can reach them.
 * Each job has two scenes and a score (three predictions waited on at once); once the worker
 * has acted on all of them the job is cancelled, so re-encoding the clips (CPU the measurement
 * would otherwise compete with) does not run on. Many small jobs give the samples.
 */

import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { silentLogger } from "../src/logger.js";
import { resolveFfmpegBinaries } from "../src/media/ffmpeg-binaries.js";
import { FakeReplicate, fakeWebhookSecret } from "../test/helpers/fake-replicate.js";
import { SEVEN_SCENE_PHOTOS } from "../test/helpers/pipeline.js";
import {
  campaignThroughApi,
  childEnv,
  freePort,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from "../test/helpers/server-process.js";
import type { Benchmark } from "./benchmarks.js";

const TOKEN = "bench-replicate-token";
const SCENES = 2;
const WEBHOOK_JOBS = 34;
const POLLING_JOBS = 9;
const POLL_INTERVAL_MS = 2_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Wake {
  /** The prediction's end (its webhook sent) → the worker's next GET of it. */
  total: number;
  /** The webhook sent → the API's answer (verified, recorded, announced). */
  accepted: number;
}

/** Runs `jobs` jobs one after another; returns, per prediction the worker waited on, how it was woken. */
async function wakeLatencies(options: {
  api: ServerProcess;
  key: string;
  campaignId: string;
  replicate: FakeReplicate;
  jobs: number;
}): Promise<Wake[]> {
  const { api, key, campaignId, replicate } = options;
  const samples: Wake[] = [];
  for (let n = 0; n < options.jobs; n++) {
    const known = new Set(replicate.predictions.keys());
    const created = await gql<{ createVideoJob: { id: string } }>(
      api.url,
      key,
      `mutation($c: ID!, $n: Int!) { createVideoJob(input: { campaignId: $c, sceneCount: $n, secondsPerScene: 2,
         videoProvider: "replicate:google/veo-3.1-fast", musicProvider: "replicate:meta/musicgen" }) { id } }`,
      { c: campaignId, n: SCENES },
    );
    const jobId = created.body.data?.createVideoJob.id;
    if (!jobId) throw new Error(`createVideoJob: ${JSON.stringify(created.body)}`);
    const ours = () => [...replicate.predictions.keys()].filter((id) => !known.has(id));
    const actedOn = (id: string) => {
      const finished = replicate.finishedAt.get(id);
      return finished === undefined
        ? undefined
        : replicate.gets.find((get) => get.id === id && get.at >= finished);
    };
    const deadline = Date.now() + 120_000;
    // Every scene and the score: a retried scene may add a prediction of its own.
    while (!(ours().length >= SCENES + 1 && ours().every((id) => actedOn(id)))) {
      if (Date.now() > deadline) {
        const state = ours().map((id) => `${replicate.predictions.get(id)!.status}${actedOn(id) ? "+" : ""}`);
        throw new Error(`job ${n + 1}: the worker did not act on every prediction: ${state.join(" ")}`);
      }
      await sleep(50);
    }
    for (const id of ours()) {
      // Only a prediction the worker had found still running was waited on (else it just looked late).
      const finished = replicate.finishedAt.get(id)!;
      if (!replicate.gets.some((get) => get.id === id && get.at < finished)) continue;
      const webhook = replicate.webhooksSent.find((sent) => sent.predictionId === id);
      samples.push({
        total: actedOn(id)!.at - finished,
        accepted: webhook ? webhook.answeredAt - webhook.sentAt : 0,
      });
    }
    await gql(api.url, key, "mutation($id: ID!) { cancelVideoJob(id: $id) { status } }", { id: jobId });
  }
  return samples;
}

async function run(): Promise<string[]> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-webhook-bench-"));
  chmodSync(scratch, 0o755);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(scratch, "postgres"),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
  const secret = fakeWebhookSecret();
  const signed = await new FakeReplicate({
    token: TOKEN,
    ffmpeg,
    webhookSecret: secret,
    cacheOutputs: true,
  }).start();
  // No secret: its webhooks are refused by the API, as when none is configured.
  const unsigned = await new FakeReplicate({ token: TOKEN, ffmpeg, cacheOutputs: true }).start();
  const port = await freePort();
  const env = (replicate: FakeReplicate, pollIntervalMs: number) =>
    childEnv({
      DATABASE_URL: postgres.url,
      PROPVID_DATA_DIR: path.join(scratch, "data"),
      NODE_ENV: "production",
      LOG_LEVEL: "info", // the "propvid is up" line says a process is ready
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      RATE_LIMIT_PER_MINUTE: "0",
      RENDER_CONCURRENCY: String(SCENES),
      REPLICATE_API_TOKEN: TOKEN,
      REPLICATE_BASE_URL: replicate.baseUrl,
      REPLICATE_WEBHOOK_SECRET: secret,
      REPLICATE_POLL_INTERVAL_MS: String(pollIntervalMs),
    });
  let api: ServerProcess | undefined;
  let worker: ServerProcess | undefined;
  try {
    api = await startServerProcess(env(signed, POLL_INTERVAL_MS), ["--role", "api"]);
    const key = (
      await runCli(["keys", "create", "--tenant", "bench"], env(signed, POLL_INTERVAL_MS))
    ).stdout.trim();
    const campaignId = await campaignThroughApi(api.url, key, "bench house", SEVEN_SCENE_PHOTOS);

    worker = await startWorkerProcess(env(signed, 600_000));
    const woken = await wakeLatencies({ api, key, campaignId, replicate: signed, jobs: WEBHOOK_JOBS });
    const webhooks = stats(woken.map((wake) => wake.total));
    const accepted = stats(woken.map((wake) => wake.accepted));

    await worker.stop("SIGTERM");

    worker = await startWorkerProcess(env(unsigned, POLL_INTERVAL_MS));
    const polled = await wakeLatencies({ api, key, campaignId, replicate: unsigned, jobs: POLLING_JOBS });
    const polling = stats(polled.map((wake) => wake.total));
    const refused = unsigned.webhooksSent.filter((sent) => sent.status === 401).length;

    const load = os.loadavg()[0]!.toFixed(1);
    const line = (name: string, s: ReturnType<typeof stats>) =>
      `${name}: p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (${s.n} predictions)`;
    return [
      line("webhook → API process → NOTIFY → worker process acts (polling every 10 min)", webhooks),
      line("  of which the API process answering the webhook (verify, record, NOTIFY)", accepted),
      line(`polling every ${POLL_INTERVAL_MS / 1000} s (${refused} unsigned webhooks refused)`, polling),
      `ratio polling / webhook: p50 ${(polling.p50 / webhooks.p50).toFixed(0)}×, p99 ${(polling.p99 / webhooks.p99).toFixed(0)}×; ` +
        `goal p99 ≤ 100 ms: ${webhooks.p99 <= 100 ? "met" : "NOT met"} (load average ${load} on ${os.availableParallelism()} cores)`,
    ];
  } finally {
    await worker?.stop("SIGTERM");
    await api?.stop("SIGTERM");
    await signed.close();
    await unsigned.close();
    await postgres.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const webhookWakeBenchmark: Benchmark = {
  name: "webhook-wake",
  description: "Replicate webhook at an api process → the waiting worker process acts on it, vs polling",
  run,
};
