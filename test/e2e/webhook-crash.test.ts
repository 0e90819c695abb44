import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { within } from "../helpers/deadline.js";
import {
  campaignThroughApi,
  childEnv,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
} from "../helpers/server-process.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

/**
 * The outbox survives the process: the VIDEO_JOB_SUCCEEDED message and its delivery job are
 * committed with the job's final transition, so a worker killed (kill -9) after that commit,
 * while its attempt is in flight, loses nothing. After a restart the delivery arrives, with
 * the same webhook-id, verified by the standardwebhooks package, and only as often as the
 * attempt schedule says (once here: it is answered 200).
 */
describe("a worker killed right after a job's final commit", () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;
  let dataDir: string;
  let receiver: WebhookReceiver;

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-webhook-crash-"));
    env = childEnv({
      DATABASE_URL: database.url,
      PROPVID_DATA_DIR: dataDir,
      RENDER_CONCURRENCY: "1",
      PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "true",
    });
    receiver = new WebhookReceiver();
  });
  after(async () => {
    await server?.stop("SIGKILL");
    await receiver.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("still delivers VIDEO_JOB_SUCCEEDED after a restart, once", async () => {
    const url = await receiver.start();
    server = await startServerProcess(env);
    const key = (await runCli(["keys", "create", "--tenant", "crash"], env)).stdout.trim();
    const created = await gql<{ createWebhookEndpoint: { secret: string } }>(
      server.url,
      key,
      `mutation($url: String!) { createWebhookEndpoint(input: { url: $url, events: [VIDEO_JOB_SUCCEEDED] }) { secret } }`,
      { url },
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    receiver.secrets.push(created.body.data!.createWebhookEndpoint.secret);

    // The first attempt hangs; the moment it arrives (the job's final transition has committed,
    // the delivery is in flight) the process is killed without warning.
    receiver.answer = (index) => (index === 0 ? "hang" : 200);
    const killedAtFirstAttempt = new Promise<void>((resolve) => {
      receiver.onRequest = () => {
        if (receiver.received.length === 1) void server!.stop("SIGKILL").then(() => resolve());
      };
    });
    const campaignId = await campaignThroughApi(server.url, key, "crash", [
      "exterior-01.jpg",
      "living-01.jpg",
      "kitchen-01.jpg",
    ]);
    const job = await gql<{ createVideoJob: { id: string } }>(
      server.url,
      key,
      `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2 }) { id } }`,
      { c: campaignId },
    );
    const jobId = job.body.data!.createVideoJob.id;
    await within(killedAtFirstAttempt, 240_000, "no webhook before the deadline");

    server = await startServerProcess(env);
    const [first, delivered] = await receiver.waitFor(2, undefined, 90_000);
    assert.equal(JSON.parse(first!.body).data.id, jobId);
    assert.equal(delivered!.status, 200);
    assert.equal(delivered!.id, first!.id, "the same webhook-id after the restart");
    assert.deepEqual(delivered!.verifiedWith, receiver.secrets);
    const body = JSON.parse(delivered!.body);
    assert.equal(body.type, "video_job.succeeded");
    assert.equal(body.data.id, jobId);

    // Answered 200: nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    assert.equal(receiver.received.length, 2, "delivered once after the restart");
  });
});
