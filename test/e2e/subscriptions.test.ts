import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { VideoJobEntity } from "../../src/db/entities/index.js";
import { appendJobEvent } from "../../src/events/job-events.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { campaignWithPhotos } from "../helpers/pipeline.js";

/**
 * GraphQL over WebSocket on /graphql: job progress live (snapshot, per-scene events, the end),
 * resume after a sequence, campaign activity; refusals (ABUSE 9, 39) and revocation.
 */

const PHOTOS = ["exterior-01.jpg", "living-01.jpg", "kitchen-01.jpg", "pool-01.jpg"];

const PROGRESS = `subscription($jobId: ID!, $after: Int) {
  videoJobProgress(jobId: $jobId, afterSequence: $after) {
    sequence type
    job { id status stage progress scenes { index status } video { url durationSeconds } }
    scene { index status progress }
  }
}`;

const ACTIVITY = `subscription($campaignId: ID!) { campaignActivity(campaignId: $campaignId) { sequence type job { id status } } }`;

interface ProgressEvent {
  sequence: number;
  type: string;
  job: {
    id: string;
    status: string;
    stage: string | null;
    progress: number;
    scenes: { index: number; status: string }[];
    video: { url: string; durationSeconds: number } | null;
  };
  scene: { index: number; status: string; progress: number } | null;
}

interface Collected<T> {
  events: T[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  completed: boolean;
  error: unknown;
  /** Settles when the subscription completes or fails. */
  done: Promise<void>;
}

function collect<T>(client: Client, query: string, variables: Record<string, unknown>): Collected<T> {
  const state: Collected<T> = {
    events: [],
    errors: [],
    completed: false,
    error: undefined,
    done: Promise.resolve(),
  };
  state.done = new Promise<void>((resolve) => {
    client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) state.errors.push(...(result.errors as Collected<T>["errors"]));
          if (result.data) state.events.push(Object.values(result.data)[0]!);
        },
        error: (error) => {
          state.error = error;
          resolve();
        },
        complete: () => {
          state.completed = true;
          resolve();
        },
      },
    );
  });
  return state;
}

function wsClient(url: string, apiKey: string | undefined, closes: number[] = []): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: apiKey === undefined ? {} : { apiKey },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
}

/** A raw graphql-transport-ws socket, for checking the protocol's close codes exactly. */
async function rawSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, "graphql-transport-ws");
  await once(socket, "open");
  return socket;
}

async function closeCodeOf(socket: WebSocket, timeoutMs = 15_000): Promise<number> {
  const timer = setTimeout(() => socket.terminate(), timeoutMs);
  const [code] = (await once(socket, "close")) as [number];
  clearTimeout(timer);
  return code;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("GraphQL subscriptions over WebSocket", () => {
  let app: InProcessApp;
  let wsUrl: string;
  let key: string;
  let tenantId: string;
  let campaignId: string;
  let otherKey: string;
  const clients: Client[] = [];
  const client = (apiKey: string | undefined, closes?: number[]) => {
    const created = wsClient(wsUrl, apiKey, closes);
    clients.push(created);
    return created;
  };

  before(async () => {
    app = await startInProcessApp({ PATH: process.env.PATH ?? "" });
    const address = await app.app.listen({ port: 0, host: "127.0.0.1" });
    wsUrl = `${address.replace(/^http/, "ws")}/graphql`;
    ({ key, tenantId } = await app.newTenant("subscriber"));
    ({ key: otherKey } = await app.newTenant("intruder"));
    ({ campaignId } = await campaignWithPhotos(app.services, tenantId, PHOTOS));
  });
  after(async () => {
    for (const each of clients) await each.dispose();
    await app?.close();
  });

  it("closes with 4403 without a key or with a bad one", async () => {
    for (const payload of [
      undefined,
      {},
      { apiKey: "pv_0123456789_not-a-real-key-not-a-real-key-not-a-real-key-xx" },
      { apiKey: 42 },
    ]) {
      const socket = await rawSocket(wsUrl);
      socket.send(JSON.stringify({ type: "connection_init", ...(payload ? { payload } : {}) }));
      assert.equal(await closeCodeOf(socket), 4403, JSON.stringify(payload));
    }
    // The client library reports the same close.
    const closes: number[] = [];
    const refused = collect(client(undefined, closes), PROGRESS, {
      jobId: "00000000-0000-4000-8000-000000000000",
    });
    await refused.done;
    assert.ok(refused.error, "the subscription fails");
    assert.deepEqual(closes, [4403]);
  });

  it("closes with 4401 on subscribe before ack and 4429 on a second init", async () => {
    const early = await rawSocket(wsUrl);
    early.send(
      JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { __typename }" } }),
    );
    assert.equal(await closeCodeOf(early), 4401);

    const twice = await rawSocket(wsUrl);
    twice.send(JSON.stringify({ type: "connection_init", payload: { apiKey: key } }));
    const [ack] = (await once(twice, "message")) as [Buffer];
    assert.equal(JSON.parse(ack.toString()).type, "connection_ack");
    twice.send(JSON.stringify({ type: "connection_init", payload: { apiKey: key } }));
    assert.equal(await closeCodeOf(twice), 4429);
  });

  let jobId: string;
  let full: ProgressEvent[];

  it("streams a snapshot, then every event of a 3-scene job in order, and completes", async () => {
    const activityClient = client(key);
    const activity = collect<{ sequence: number; type: string; job: { id: string; status: string } }>(
      activityClient,
      ACTIVITY,
      { campaignId },
    );
    // Let the activity subscription register before the job exists.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const created = await app.graphql<{ createVideoJob: { id: string } }>(
      key,
      `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2 }) { id } }`,
      { c: campaignId },
    );
    jobId = created.body.data!.createVideoJob.id;
    const progress = collect<ProgressEvent>(client(key), PROGRESS, { jobId });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      progress.done,
      new Promise((_, reject) => {
        timer = setTimeout(async () => {
          const [row] = await app.services.dataSource.query(
            "SELECT status, stage, last_sequence FROM video_job WHERE id = $1",
            [jobId],
          );
          reject(
            new Error(
              `no end in 120 s: job ${JSON.stringify(row)}, got ${JSON.stringify(progress.events.map((event) => [event.sequence, event.type]))}`,
            ),
          );
        }, 120_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(progress.error, undefined);
    assert.deepEqual(progress.errors, []);
    assert.ok(progress.completed, "the subscription completes after the terminal event");
    const [snapshot, ...rest] = progress.events;
    assert.equal(snapshot!.type, "SNAPSHOT");
    assert.equal(snapshot!.job.id, jobId);
    assert.deepEqual(
      rest.map((event) => event.sequence),
      rest.map((_, i) => snapshot!.sequence + 1 + i),
      "strictly increasing, no gaps",
    );
    const last = rest.at(-1)!;
    assert.equal(last.type, "COMPLETED");
    assert.equal(last.job.status, "SUCCEEDED");
    assert.equal(last.job.progress, 1);
    assert.ok(last.job.video?.url.includes("/v1/media/"), "nested fields resolve through VideoJob");
    assert.deepEqual(
      last.job.scenes.map((scene) => scene.status),
      ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"],
    );
    for (const index of [0, 1, 2]) {
      const sceneEvents = rest.filter(
        (event) => event.type === "SCENE_UPDATED" && event.scene?.index === index,
      );
      if (snapshot!.sequence < 3) assert.ok(sceneEvents.length >= 1, `scene ${index} has events`);
      const done = sceneEvents.find((event) => event.scene!.status === "SUCCEEDED");
      if (sceneEvents.length) assert.equal(done?.scene?.progress, 1, `scene ${index} reaches 100 %`);
    }
    // Every event states the job's progress as of itself: it only ever grows, to 1 at the end.
    const fractions = rest.map((event) => event.job.progress);
    assert.deepEqual(
      fractions,
      [...fractions].sort((a, b) => a - b),
      `progress never goes back: ${fractions.join(" ")}`,
    );
    const statuses = rest.filter((event) => event.type === "JOB_UPDATED").map((event) => event.job.status);
    for (const status of statuses)
      assert.ok(["PLANNING", "RENDERING", "ASSEMBLING"].includes(status), status);

    // The whole log, from the start: the same events the live stream gave after its snapshot.
    const replay = collect<ProgressEvent>(client(key), PROGRESS, { jobId, after: 0 });
    await replay.done;
    full = replay.events;
    assert.equal(full[0]!.type, "CREATED");
    assert.deepEqual(
      full.map((event) => event.sequence),
      full.map((_, i) => i + 1),
    );
    assert.deepEqual(
      full
        .slice(snapshot!.sequence)
        .map((event) => [event.sequence, event.type, event.scene?.status ?? null]),
      rest.map((event) => [event.sequence, event.type, event.scene?.status ?? null]),
    );

    await until(() => activity.events.length >= 2, 10_000, "campaign activity");
    assert.deepEqual(
      activity.events.map((event) => [event.type, event.job.id, event.job.status]),
      [
        ["CREATED", jobId, "QUEUED"],
        ["COMPLETED", jobId, "SUCCEEDED"],
      ],
    );
    await activityClient.dispose();
  });

  it("resumes after a sequence without gaps or repeats", async () => {
    const from = Math.floor(full.length / 2);
    const resumed = collect<ProgressEvent>(client(key), PROGRESS, { jobId, after: from });
    await resumed.done;
    assert.ok(resumed.completed);
    assert.deepEqual(
      resumed.events.map((event) => event.sequence),
      full.slice(from).map((event) => event.sequence),
    );
    assert.ok(resumed.events.every((event) => event.type !== "SNAPSHOT"));

    // A finished job subscribed without afterSequence: its snapshot, then complete.
    const finished = collect<ProgressEvent>(client(key), PROGRESS, { jobId });
    await finished.done;
    assert.deepEqual(
      finished.events.map((event) => [event.type, event.sequence, event.job.status]),
      [["SNAPSHOT", full.length, "SUCCEEDED"]],
    );
  });

  it("refuses another tenant's job exactly like a random id", async () => {
    const theirs = collect<ProgressEvent>(client(otherKey), PROGRESS, { jobId });
    const random = collect<ProgressEvent>(client(otherKey), PROGRESS, {
      jobId: "6f1c1b8e-2d9a-4c51-9d1e-3b7f0e8a9c21",
    });
    const garbage = collect<ProgressEvent>(client(otherKey), PROGRESS, { jobId: "not-a-uuid" });
    const campaign = collect<ProgressEvent>(client(otherKey), ACTIVITY, { campaignId });
    await Promise.all([theirs.done, random.done, garbage.done, campaign.done]);
    assert.equal(theirs.events.length, 0);
    assert.equal(theirs.errors[0]?.extensions?.code, "NOT_FOUND");
    assert.deepEqual(theirs.errors, random.errors);
    assert.deepEqual(theirs.errors, garbage.errors);
    assert.equal(campaign.errors[0]?.extensions?.code, "NOT_FOUND");
  });

  it("drops a stalled subscriber and keeps the others going", async () => {
    const repository = app.services.dataSource.getRepository(VideoJobEntity);
    const job = await repository.save(
      repository.create({
        tenantId,
        campaignId,
        status: "RENDERING",
        inputHash: "stalled-subscriber-test",
        options: {
          sceneCount: 1,
          secondsPerScene: 2,
          aspectRatio: "LANDSCAPE_16_9",
          mood: "LUXURY",
          selector: "heuristic",
          videoProvider: "local",
          musicProvider: "local",
        },
      }),
    );
    // Ten copies of the job per event (aliases) make each message a few kB, to fill socket buffers.
    const fields =
      "{ id status stage progress selector videoProvider musicProvider aspectRatio mood createdAt startedAt }";
    const bulky = `subscription($jobId: ID!, $after: Int) { videoJobProgress(jobId: $jobId, afterSequence: $after) {
      sequence type ${Array.from({ length: 10 }, (_, i) => `j${i}: job ${fields}`).join(" ")} } }`;
    const watching = app.services.jobEvents.watcherCount;
    const healthy = collect<{ sequence: number; j0: { status: string; stage: string } }>(client(key), bulky, {
      jobId: job.id,
      after: 0,
    });

    const stalled = await rawSocket(wsUrl);
    const closed = once(stalled, "close") as Promise<[number]>;
    stalled.send(JSON.stringify({ type: "connection_init", payload: { apiKey: key } }));
    await once(stalled, "message");
    stalled.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: bulky, variables: { jobId: job.id, after: 0 } },
      }),
    );
    await until(() => app.services.jobEvents.watcherCount === watching + 2, 10_000, "both subscriptions");
    // Stop reading: the server's writes back up, as with a client on a dead network.
    const socket = (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // Once the server has dropped it (its buffer overflowing, or its stall), read again: the close
    // frame waits behind what was buffered. (Reading at once, not after the rest of the test, keeps
    // the close handshake well within its timeout on a slow machine.)
    const dropped = until(
      () => app.services.jobEvents.watcherCount === watching + 1,
      120_000,
      "the drop",
    ).then(() => socket.resume());

    // A burst of 3000 events in one transaction, then a wake-up.
    const burst = 3000;
    await app.services.dataSource.query(
      `WITH j AS (UPDATE video_job SET last_sequence = last_sequence + $2 WHERE id = $1 RETURNING last_sequence, tenant_id, campaign_id)
       INSERT INTO job_event (job_id, tenant_id, campaign_id, sequence, type, payload)
       SELECT $1, tenant_id, campaign_id, last_sequence - $2 + g, 'JOB_UPDATED', jsonb_build_object('stage', 'burst')
         FROM j, generate_series(1, $2) AS g`,
      [job.id, burst],
    );
    await app.services.dataSource.query("SELECT pg_notify('propvid_job_events', $1)", [`${job.id}:${burst}`]);
    await until(() => healthy.events.length === burst, 30_000, "the healthy subscriber's burst");
    assert.deepEqual(
      healthy.events.map((event) => event.sequence),
      Array.from({ length: burst }, (_, i) => i + 1),
    );
    // Rows in the older shape (no job state in the payload) read from their own payload.
    assert.ok(healthy.events.every((event) => event.j0.status === "RENDERING" && event.j0.stage === "burst"));

    // The stalled one reads nothing: its sends stall, its buffer fills or its pongs stop (which
    // comes first depends on how much the kernel buffers); each closes it with 4499, whose close
    // frame reaches it once it reads again. The healthy one goes on.
    await dropped;
    await appendJobEvent(app.services.dataSource, job.id, { type: "JOB_UPDATED" });
    await until(() => healthy.events.length === burst + 1, 10_000, "the healthy subscriber's next event");
    const [code] = await closed;
    assert.equal(code, 4499);
  });

  it("closes a socket when its key is revoked, here or in another process", async () => {
    for (const how of ["mutation", "database"] as const) {
      const extra = await app.services.apiKeys.create(tenantId, {
        name: `revoked by ${how}`,
        scopes: ["read"],
      });
      const closes: number[] = [];
      const watching = app.services.jobEvents.watcherCount;
      const live = collect(client(extra.key, closes), ACTIVITY, { campaignId });
      await until(() => app.services.jobEvents.watcherCount > watching, 5_000, "the subscription");
      const revokedAt = Date.now();
      if (how === "mutation") {
        const revoked = await app.graphql(
          key,
          `mutation($p: String!) { revokeApiKey(prefix: $p) { revokedAt } }`,
          {
            p: extra.apiKey.prefix,
          },
        );
        assert.equal(revoked.status, 200);
      } else {
        // As another process would: straight in the table; the periodic check notices.
        await app.services.dataSource.query("UPDATE api_key SET revoked_at = now() WHERE id = $1", [
          extra.apiKey.id,
        ]);
      }
      await live.done;
      assert.equal(closes[0], 4403);
      const waited = Date.now() - revokedAt;
      assert.ok(waited < (how === "mutation" ? 1_000 : 7_000), `closed after ${waited} ms`);
      await until(() => app.services.jobEvents.watcherCount === watching, 2_000, "the watcher to go");
    }
  });
});
