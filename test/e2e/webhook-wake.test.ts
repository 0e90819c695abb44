import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { isTerminalJobStatus } from "../../src/db/entities/video-job.entity.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { FakeReplicate, fakeWebhookSecret } from "../helpers/fake-replicate.js";
import {
  campaignThroughApi,
  childEnv,
  freePort,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from "../helpers/server-process.js";

const TOKEN = "test-replicate-token";
/** Polling so rare that only a webhook can explain a worker looking again within the job's life. */
const POLL_INTERVAL_MS = 600_000;
/** How soon after a prediction finishes the worker must have looked at it: far below the poll interval. */
const WAKE_BOUND_MS = 15_000;

/**
 * The README's two-machine layout as two processes — `--role api` (receives Replicate's
 * webhooks) and `--role worker` (waits on the predictions) — on the Replicate stand-in, with
 * polling set to ten minutes: the job completes because each verified webhook, announced through
 * PostgreSQL, wakes the worker at once.
 */
describe("the two-machine layout on Replicate, woken by webhooks only", () => {
  let database: TestDatabase;
  let dataDir: string;
  let replicate: FakeReplicate;
  let api: ServerProcess | undefined;
  let worker: ServerProcess | undefined;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-webhook-wake-"));
    const secret = fakeWebhookSecret();
    const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
    // Long enough that the worker's first look finds every prediction still running.
    replicate = await new FakeReplicate({
      token: TOKEN,
      ffmpeg,
      webhookSecret: secret,
      renderDelayMs: 1_500,
    }).start();
    const port = await freePort();
    env = childEnv({
      DATABASE_URL: database.url,
      PROPVID_DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      REPLICATE_API_TOKEN: TOKEN,
      REPLICATE_BASE_URL: replicate.baseUrl,
      // the stand-in serves its outputs from loopback: allowed here, as in the other provider tests
      REPLICATE_OUTPUT_HOSTS: "127.0.0.1",
      PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1",
      REPLICATE_WEBHOOK_SECRET: secret,
      REPLICATE_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      RENDER_CONCURRENCY: "3",
    });
    api = await startServerProcess(env, ["--role", "api"]);
    worker = await startWorkerProcess(env);
  });
  after(async () => {
    await worker?.stop("SIGKILL");
    await api?.stop("SIGKILL");
    await replicate?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("completes a job: every finished prediction's webhook wakes the worker at once", async (t) => {
    const url = api!.url;
    const key = (await runCli(["keys", "create", "--tenant", "webhooks"], env)).stdout.trim();
    const campaignId = await campaignThroughApi(url, key, "webhooks", [
      "exterior-01.jpg",
      "living-01.jpg",
      "kitchen-01.jpg",
      "pool-01.jpg",
    ]);
    const started = Date.now();
    const created = await gql<{ createVideoJob: { id: string } }>(
      url,
      key,
      `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2,
         videoProvider: "replicate:google/veo-3.1-fast", musicProvider: "replicate:meta/musicgen" }) { id } }`,
      { c: campaignId },
    );
    const jobId = created.body.data!.createVideoJob.id;

    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      let job = { status: "QUEUED", error: null as string | null };
      while (!isTerminalJobStatus(job.status) && Date.now() - started < 240_000) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        job = (await db.query("SELECT status, error FROM video_job WHERE id = $1", [jobId])).rows[0];
      }
      t.diagnostic(`the job ended ${job.status} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      assert.equal(job.status, "SUCCEEDED", job.error ?? "");

      const predictions = [...replicate.predictions.values()];
      assert.deepEqual(predictions.map((p) => p.model).sort(), [
        "google/veo-3.1-fast",
        "google/veo-3.1-fast",
        "google/veo-3.1-fast",
        "meta/musicgen",
      ]);
      const wakes: number[] = [];
      for (const prediction of predictions) {
        assert.equal(prediction.status, "succeeded");
        const finished = replicate.finishedAt.get(prediction.id)!;
        const delivered = replicate.webhooksSent.filter((sent) => sent.predictionId === prediction.id);
        assert.deepEqual(
          delivered.map((sent) => sent.status),
          [200],
          "one webhook, accepted by the API process",
        );
        const gets = replicate.gets.filter((get) => get.id === prediction.id);
        assert.ok(
          gets.some((get) => get.at < finished && get.status !== "succeeded"),
          "the worker found it running and waited",
        );
        const after = gets.find((get) => get.at >= finished);
        assert.ok(after, "the worker looked again");
        wakes.push(after.at - finished);
      }
      t.diagnostic(
        `finished prediction → worker looks: ${wakes.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}`,
      );
      for (const ms of wakes)
        assert.ok(ms < WAKE_BOUND_MS, `woken after ${ms} ms, not by a ${POLL_INTERVAL_MS} ms poll`);

      // Partners see what it cost as it was charged: one COST_UPDATED per clip and one for the score.
      const costs = (
        await db.query(
          "SELECT payload->'cost'->>'kind' AS kind FROM job_event WHERE job_id = $1 AND type = 'COST_UPDATED'",
          [jobId],
        )
      ).rows.map((row) => row.kind as string);
      assert.deepEqual(costs.sort(), ["MUSIC", "VIDEO", "VIDEO", "VIDEO"]);
    } finally {
      await db.end();
    }
  });
});
