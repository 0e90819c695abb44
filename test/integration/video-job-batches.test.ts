import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BatchProgressUpdate } from "../../src/events/batch-progress.service.js";
import { silentLogger } from "../../src/logger.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { within } from "../helpers/deadline.js";
import { campaignWithPhotos } from "../helpers/pipeline.js";

const CREATE = `mutation($inputs: [CreateVideoJobInput!]!, $key: String) {
  createVideoJobs(inputs: $inputs, idempotencyKey: $key) {
    id status progress jobCount succeeded failed cancelled completedAt
    jobs(first: 2) { edges { cursor node { id status sceneCount } } pageInfo { hasNextPage endCursor } }
  }
}`;

interface BatchResult {
  id: string;
  status: string;
  progress: number;
  jobCount: number;
  cancelled: number;
  completedAt: string | null;
  jobs: {
    edges: { cursor: string; node: { id: string; status: string; sceneCount: number } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** createVideoJobs, videoJobBatch, batchProgress and BATCH_COMPLETED, on the api role (no renders). */
describe("video job batches", () => {
  let app: InProcessApp;
  let key: string;
  let tenantId: string;
  let campaignId: string;

  before(async () => {
    app = await startInProcessApp({}, { workers: false });
    ({ key, tenantId } = await app.newTenant("batcher"));
    ({ campaignId } = await campaignWithPhotos(app.services, tenantId, ["exterior-01.jpg", "living-01.jpg"]));
  });
  after(async () => {
    await app?.close();
  });

  const inputs = (counts: number[]) => counts.map((sceneCount) => ({ campaignId, sceneCount }));

  it("creates every job or none: one bad input refuses the batch, naming it", async () => {
    const [{ count: before }] = await app.services.dataSource.query(
      "SELECT count(*)::int AS count FROM video_job",
    );
    const refused = await app.graphql(key, CREATE, {
      inputs: [...inputs([2, 3]), { campaignId: "00000000-0000-4000-8000-000000000000", sceneCount: 2 }],
    });
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    assert.match(refused.body.errors![0]!.message, /inputs\[2\]/);
    const [{ count: afterwards }] = await app.services.dataSource.query(
      "SELECT count(*)::int AS count FROM video_job",
    );
    assert.equal(afterwards, before, "no job was created");
    const tooMany = await app.graphql(key, CREATE, { inputs: inputs(Array(101).fill(2)) });
    assert.equal(tooMany.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  it("is idempotent by key, pages its jobs in input order, and completes with BATCH_COMPLETED when its last job ends", async () => {
    await app.services.dataSource.query(
      `INSERT INTO webhook_endpoint (id, tenant_id, url, events, secret_ciphertext)
       VALUES (gen_random_uuid(), $1, 'https://partner.example/hooks', '{BATCH_COMPLETED,VIDEO_JOB_FAILED}', 'unused')`,
      [tenantId],
    );
    const created = await app.graphql<{ createVideoJobs: BatchResult }>(key, CREATE, {
      inputs: inputs([2, 3, 4]),
      key: "monday-listings",
    });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const batch = created.body.data!.createVideoJobs;
    assert.equal(batch.status, "RUNNING");
    assert.equal(batch.jobCount, 3);
    assert.deepEqual(
      batch.jobs.edges.map((edge) => edge.node.sceneCount),
      [2, 3],
    );
    assert.equal(batch.jobs.pageInfo.hasNextPage, true);

    const again = await app.graphql<{ createVideoJobs: BatchResult }>(key, CREATE, {
      inputs: inputs([2, 3, 4]),
      key: "monday-listings",
    });
    assert.equal(again.body.data!.createVideoJobs.id, batch.id, "same key and inputs: the same batch");
    const conflict = await app.graphql(key, CREATE, { inputs: inputs([2, 3]), key: "monday-listings" });
    assert.equal(conflict.body.errors?.[0]?.extensions?.code, "CONFLICT");

    const read = await app.graphql<{ videoJobBatch: BatchResult }>(
      key,
      `query($id: ID!, $after: String) { videoJobBatch(id: $id) {
        id jobs(first: 2, after: $after) { edges { node { id sceneCount } } pageInfo { hasNextPage } } } }`,
      { id: batch.id, after: batch.jobs.pageInfo.endCursor },
    );
    const rest = read.body.data!.videoJobBatch.jobs;
    assert.deepEqual(
      rest.edges.map((edge) => edge.node.sceneCount),
      [4],
    );
    assert.equal(rest.pageInfo.hasNextPage, false);
    const jobIds = [...batch.jobs.edges.map((edge) => edge.node.id), rest.edges[0]!.node.id];

    // batchProgress: the batch now, then an update per event of its jobs, ending with the last.
    const stream = await app.services.batchProgress.follow(tenantId, batch.id, { logger: silentLogger });
    const updates: BatchProgressUpdate[] = [];
    const collected = (async () => {
      for await (const update of stream) updates.push(update);
    })();
    await app.services.jobStates.fail(jobIds[0]!, "PROVIDER_FAILED", "The provider gave up");
    for (const jobId of jobIds.slice(1)) await app.services.pipeline.cancel(tenantId, jobId);
    await within(collected, 15_000, "batchProgress did not complete");
    assert.equal(updates[0]!.job, null);
    assert.equal(updates[0]!.view.summary.status, "RUNNING");
    const last = updates.at(-1)!;
    assert.equal(last.view.summary.status, "COMPLETED");
    assert.equal(last.view.summary.cancelled, 2);
    assert.equal(last.view.summary.failed, 1);
    assert.equal(last.view.summary.progress, 1);
    assert.ok(updates.some((update) => update.job?.id === jobIds[2] && update.job.status === "CANCELLED"));

    const done = await app.graphql<{ videoJobBatch: BatchResult }>(
      key,
      `query($id: ID!) { videoJobBatch(id: $id) { status progress cancelled completedAt } }`,
      { id: batch.id },
    );
    assert.equal(done.body.data!.videoJobBatch.status, "COMPLETED");
    assert.ok(done.body.data!.videoJobBatch.completedAt);
    const messages = await app.services.dataSource.query(
      "SELECT payload FROM webhook_message WHERE tenant_id = $1 AND event_type = 'batch.completed'",
      [tenantId],
    );
    assert.equal(messages.length, 1, "BATCH_COMPLETED written once, by the last job's transition");
    assert.equal(messages[0].payload.data.id, batch.id);
    assert.equal(messages[0].payload.data.cancelled, 2);
    assert.equal(messages[0].payload.data.failed, 1);
    assert.deepEqual(
      messages[0].payload.data.jobs.map((job: { id: string }) => job.id),
      jobIds,
    );
    // Only what the endpoint subscribed to: the failure, not the cancellations.
    const jobMessages = await app.services.dataSource.query(
      "SELECT event_type, payload FROM webhook_message WHERE tenant_id = $1 AND event_type LIKE 'video_job.%'",
      [tenantId],
    );
    assert.deepEqual(
      jobMessages.map((row: { event_type: string }) => row.event_type),
      ["video_job.failed"],
    );
    assert.deepEqual(jobMessages[0].payload.data.error, {
      code: "PROVIDER_FAILED",
      message: "The provider gave up",
    });
    assert.equal(jobMessages[0].payload.data.batchId, batch.id);
  });

  it("keeps batches to their tenant (NOT_FOUND)", async () => {
    const created = await app.graphql<{ createVideoJobs: BatchResult }>(key, CREATE, { inputs: inputs([2]) });
    const other = await app.newTenant("someone else");
    const read = await app.graphql(other.key, `query($id: ID!) { videoJobBatch(id: $id) { id } }`, {
      id: created.body.data!.createVideoJobs.id,
    });
    assert.equal(read.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    await assert.rejects(
      app.services.batchProgress.follow(other.tenantId, created.body.data!.createVideoJobs.id, {
        logger: silentLogger,
      }),
      (error: { code?: string }) => error.code === "NOT_FOUND",
    );
    const theirs = await app.graphql(other.key, CREATE, { inputs: inputs([2]) });
    assert.equal(theirs.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", "another tenant's campaign");
  });
});
