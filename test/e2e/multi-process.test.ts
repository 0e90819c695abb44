import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, createClient } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "../../src/db/embedded-postgres.js";
import { silentLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  campaignThroughApi,
  childEnv,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from "../helpers/server-process.js";

/**
 * Scale-out on one database: two `--role api` and two `--role worker` processes. A subscriber on
 * API #2 follows a job rendered by the workers, through a kill -9 of the busy worker (ABUSE 37):
 * the other worker finishes the job and the subscriber sees every event, in order, once.
 */

interface ProgressEvent {
  sequence: number;
  type: string;
  job: { status: string; scenes: { index: number; status: string }[] };
  scene: { index: number; status: string; progress: number } | null;
}

const PHOTOS = ["exterior-01.jpg", "living-01.jpg", "kitchen-01.jpg", "pool-01.jpg"];

/** Whether the process has an ffmpeg child right now (it is rendering). */
function rendering(pid: number): boolean {
  try {
    return execFileSync("ps", ["--ppid", String(pid), "-o", "comm="], { encoding: "utf8" }).includes(
      "ffmpeg",
    );
  } catch {
    return false; // ps exits 1 when there is no child
  }
}

describe("two API and two worker processes on one database", () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;
  const apis: ServerProcess[] = [];
  const workers: ServerProcess[] = [];
  let client: Client | undefined;

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-multi-"));
    env = childEnv({ DATABASE_URL: database.url, PROPVID_DATA_DIR: dataDir, RENDER_CONCURRENCY: "1" });
    // The first start applies the migrations; the others find them applied.
    apis.push(await startServerProcess(env, ["--role", "api"]));
    const [api2, worker1, worker2] = await Promise.all([
      startServerProcess(env, ["--role", "api"]),
      startWorkerProcess(env),
      startWorkerProcess(env),
    ]);
    apis.push(api2);
    workers.push(worker1, worker2);
  });
  after(async () => {
    await client?.dispose();
    for (const worker of workers) await worker.stop("SIGKILL");
    for (const api of apis) await api.stop("SIGKILL");
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers every event of a job to a subscriber on API #2 through a kill -9 of the busy worker", async (t) => {
    const [api1, api2] = apis as [ServerProcess, ServerProcess];
    const key = (await runCli(["keys", "create", "--tenant", "multi"], env)).stdout.trim();
    const campaignId = await campaignThroughApi(api1.url, key, "multi", PHOTOS);
    const created = await gql<{ createVideoJob: { id: string } }>(
      api1.url,
      key,
      `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2 }) { id } }`,
      { c: campaignId },
    );
    const jobId = created.body.data!.createVideoJob.id;

    client = createClient({
      url: `${api2.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: key },
      retryAttempts: 0,
    });
    const events: ProgressEvent[] = [];
    const errors: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      client!.subscribe<{ videoJobProgress: ProgressEvent }>(
        {
          query: `subscription($j: ID!) { videoJobProgress(jobId: $j) {
            sequence type job { status scenes { index status } } scene { index status progress } } }`,
          variables: { j: jobId },
        },
        {
          next: (result) => {
            if (result.errors) errors.push(...result.errors);
            if (result.data) events.push(result.data.videoJobProgress);
          },
          error: (error) => {
            errors.push(error);
            resolve();
          },
          complete: resolve,
        },
      );
    });

    // Kill -9 whichever worker renders first, mid-scene; the API processes never render.
    let killed: number | undefined;
    const deadline = Date.now() + 120_000;
    while (killed === undefined && Date.now() < deadline) {
      for (const api of apis) assert.equal(rendering(api.child.pid!), false, "an API process never renders");
      const busy = workers.find((worker) => rendering(worker.child.pid!));
      if (busy) {
        await new Promise((resolve) => setTimeout(resolve, 300)); // let its progress events flow
        killed = busy.child.pid!;
        await busy.stop("SIGKILL");
      } else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(killed, "a worker started rendering");
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no end: ${JSON.stringify(events.map((e) => e.type))}`)),
          150_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    t.diagnostic(
      `the surviving worker finished ${((Date.now() - started) / 1000).toFixed(1)} s after the kill`,
    );

    assert.deepEqual(errors, []);
    const [snapshot, ...rest] = events;
    assert.equal(snapshot!.type, "SNAPSHOT");
    assert.deepEqual(
      rest.map((event) => event.sequence),
      rest.map((_, i) => snapshot!.sequence + 1 + i),
      "no gap, no repeat",
    );
    assert.equal(rest.at(-1)!.type, "COMPLETED");
    assert.deepEqual(
      rest.at(-1)!.job.scenes.map((scene) => scene.status),
      ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"],
    );

    // What the subscriber saw is exactly the log after its snapshot.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ sequence: number; type: string }>(
        "SELECT sequence, type FROM job_event WHERE job_id = $1 AND sequence > $2 ORDER BY sequence",
        [jobId, snapshot!.sequence],
      );
      assert.deepEqual(
        rest.map((event) => [event.sequence, event.type]),
        rows.map((row) => [row.sequence, row.type]),
      );
    } finally {
      await db.end();
    }
  });
});

/** Uploads the photos and starts a 3-scene job; returns its id. */
async function startJob(url: string, key: string): Promise<string> {
  const campaignId = await campaignThroughApi(url, key, "restart", PHOTOS);
  const created = await gql<{ createVideoJob: { id: string } }>(
    url,
    key,
    `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2 }) { id } }`,
    { c: campaignId },
  );
  return created.body.data!.createVideoJob.id;
}

/** ABUSE 36, from the subscriber's side: the database restarts mid-job; the stream goes on, gap-free. */
describe("a database restart while a job runs", () => {
  let scratch: string;
  let postgres: EmbeddedPostgresHandle | undefined;
  let server: ServerProcess | undefined;
  let client: Client | undefined;

  before(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-restart-"));
    chmodSync(scratch, 0o755); // the postgres system user must be able to enter it
  });
  after(async () => {
    await client?.dispose();
    await server?.stop("SIGKILL");
    await postgres?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("keeps delivering every event after the database comes back", async (t) => {
    const dataDir = path.join(scratch, "postgres");
    postgres = await startEmbeddedPostgres({ dataDir, logger: silentLogger, settings: { fsync: "off" } });
    const port = postgres.port;
    const env = childEnv({
      DATABASE_URL: postgres.url,
      PROPVID_DATA_DIR: path.join(scratch, "data"),
      RENDER_CONCURRENCY: "1",
    });
    server = await startServerProcess(env);
    const key = (await runCli(["keys", "create", "--tenant", "restart"], env)).stdout.trim();
    const jobId = await startJob(server.url, key);

    client = createClient({
      url: `${server.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: key },
      retryAttempts: 0,
    });
    const events: ProgressEvent[] = [];
    const errors: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      client!.subscribe<{ videoJobProgress: ProgressEvent }>(
        {
          query: `subscription($j: ID!) { videoJobProgress(jobId: $j) {
            sequence type job { status scenes { index status } } scene { index status progress } } }`,
          variables: { j: jobId },
        },
        {
          next: (result) => {
            if (result.errors) errors.push(...result.errors);
            if (result.data) events.push(result.data.videoJobProgress);
          },
          error: (error) => {
            errors.push(error);
            resolve();
          },
          complete: resolve,
        },
      );
    });

    // Once a scene renders, restart the database on the same port.
    const deadline = Date.now() + 120_000;
    while (!events.some((event) => event.type === "SCENE_UPDATED") && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(
      events.some((event) => event.type === "SCENE_UPDATED"),
      "a scene started",
    );
    const seenBefore = events.length;
    await postgres.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    postgres = await startEmbeddedPostgres({
      dataDir,
      logger: silentLogger,
      settings: { fsync: "off", port },
    });
    const restarted = Date.now();

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no end: ${JSON.stringify(events.map((e) => [e.sequence, e.type]))}`)),
          180_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    t.diagnostic(
      `${seenBefore} events before the restart, ${events.length - seenBefore} after; ended with ${events.at(-1)?.type} ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
    );

    assert.deepEqual(errors, []);
    const [snapshot, ...rest] = events;
    assert.equal(snapshot!.type, "SNAPSHOT");
    assert.deepEqual(
      rest.map((event) => event.sequence),
      rest.map((_, i) => snapshot!.sequence + 1 + i),
      "no gap, no repeat across the restart",
    );
    assert.ok(["COMPLETED", "FAILED"].includes(rest.at(-1)!.type), rest.at(-1)!.type);
    const db = new pg.Client({
      connectionString: postgres.urlFor("postgres").replace(/:\d+\//, `:${port}/`),
    });
    await db.connect();
    try {
      const { rows } = await db.query<{ sequence: number; type: string }>(
        "SELECT sequence, type FROM job_event WHERE job_id = $1 AND sequence > $2 ORDER BY sequence",
        [jobId, snapshot!.sequence],
      );
      assert.deepEqual(
        rest.map((event) => [event.sequence, event.type]),
        rows.map((row) => [row.sequence, row.type]),
      );
    } finally {
      await db.end();
    }
  });
});
