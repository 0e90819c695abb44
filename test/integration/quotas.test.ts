/**
 * Per-tenant quotas on the real API (no workers): videos per month and stored bytes refuse with
 * QUOTA_EXCEEDED (the limit and the current figure in the GraphQL extensions' details), concurrent
 * stores cannot both slip under the storage limit, and `tenants list` reports it all.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { isAppError } from "../../src/errors.js";
import { formatTenantReports } from "../../src/tenants.command.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { campaignWithPhotos } from "../helpers/pipeline.js";

const CREATE_JOB = `mutation ($input: CreateVideoJobInput!) { createVideoJob(input: $input) { id status stage } }`;

describe("tenant quotas", () => {
  let app: InProcessApp;

  before(async () => {
    app = await startInProcessApp({ TENANT_MAX_CONCURRENT_JOBS: "1" }, { workers: false });
  });
  after(async () => {
    await app?.close();
  });

  const storedBytes = async (tenantId: string) =>
    Number(
      (
        await app.services.dataSource.query(
          "SELECT COALESCE(sum(byte_size), 0) AS n FROM media WHERE tenant_id = $1",
          [tenantId],
        )
      )[0].n,
    );

  it("refuses a video past the monthly quota, counting jobs in flight, with the limit and the figure", async () => {
    const { key, tenantId } = await app.newTenant("monthly");
    const { campaignId } = await campaignWithPhotos(app.services, tenantId, [
      "exterior-01.jpg",
      "living-01.jpg",
    ]);
    await app.services.quotas.setQuota("monthly", { videosPerMonth: 2 });
    const input = { campaignId, sceneCount: 2 };

    const first = await app.graphql<{ createVideoJob: { stage: string } }>(key, CREATE_JOB, { input });
    assert.equal(first.body.data?.createVideoJob.stage, "queued", JSON.stringify(first.body.errors));
    // The server default allows one running job: the second waits for the slot.
    const second = await app.graphql<{ createVideoJob: { stage: string } }>(key, CREATE_JOB, { input });
    assert.equal(second.body.data?.createVideoJob.stage, "waiting_for_slot");

    const third = await app.graphql(key, CREATE_JOB, { input });
    assert.equal(third.body.errors?.[0]?.extensions?.code, "QUOTA_EXCEEDED");
    assert.deepEqual(third.body.errors?.[0]?.extensions?.details, {
      quota: "VIDEOS_PER_MONTH",
      limit: 2,
      current: 2,
    });
    const [report] = await app.services.quotas.report(tenantId);
    assert.deepEqual(report, {
      name: "monthly",
      limits: { storageBytes: null, videosPerMonth: 2, concurrentJobs: 1 },
      own: { storageBytes: false, videosPerMonth: true, concurrentJobs: false },
      storedBytes: await storedBytes(tenantId),
      videosThisMonth: 2,
      runningJobs: 1,
      waitingJobs: 1,
    });
    const listed = formatTenantReports([report!]);
    assert.match(listed, /^monthly\s+\d+\/∞\s+2\/2\*\s+1\/1\s+1$/m);

    // Back to the server default (none): the next video is accepted.
    await app.services.quotas.setQuota("monthly", { videosPerMonth: null });
    const fourth = await app.graphql<{ createVideoJob: { stage: string } }>(key, CREATE_JOB, { input });
    assert.equal(
      fourth.body.data?.createVideoJob.stage,
      "waiting_for_slot",
      JSON.stringify(fourth.body.errors),
    );
  });

  it("refuses a store past the storage quota, and keeps nothing of it", async () => {
    const { tenantId } = await app.newTenant("storage");
    const { campaignId } = await campaignWithPhotos(app.services, tenantId, ["exterior-01.jpg"]);
    const before = await storedBytes(tenantId);
    assert.ok(before > 0);
    await app.services.quotas.setQuota("storage", { storageBytes: before + 1000 });
    const photo = await readFile(fixturePhoto("kitchen-01.jpg"));
    const refused = await app.services.ingest.ingestNew(tenantId, campaignId, "kitchen-01.jpg", photo).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isAppError(refused) && refused.code === "QUOTA_EXCEEDED", String(refused));
    assert.equal(refused.details?.quota, "STORAGE_BYTES");
    assert.equal(refused.details?.limit, before + 1000);
    assert.ok(
      Number(refused.details?.current) > before + 1000,
      "the figure is what the store would have made it",
    );
    assert.equal(await storedBytes(tenantId), before, "the refused bytes were rolled back");
    const [report] = await app.services.quotas.report(tenantId);
    assert.equal(report!.storedBytes, before, "the counter agrees with the media rows");
  });

  it("lets only one of two concurrent stores take the room left for one", async () => {
    const { tenantId } = await app.newTenant("racing");
    const photos = await Promise.all(
      ["bath-01.jpg", "pool-01.jpg"].map((name) => readFile(fixturePhoto(name))),
    );
    const bytes = photos.map((photo) => photo.length);
    // Room for the larger photo, not for both.
    await app.services.quotas.setQuota("racing", { storageBytes: Math.max(...bytes) + 10 });
    const results = await Promise.allSettled(
      photos.map((photo) =>
        app.services.media.store(tenantId, photo, { contentType: "image/jpeg", maxBytes: 1e8 }),
      ),
    );
    assert.deepEqual(results.map((result) => result.status).sort(), ["fulfilled", "rejected"]);
    const rejected = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    assert.ok(isAppError(rejected.reason) && rejected.reason.code === "QUOTA_EXCEEDED");
    const [report] = await app.services.quotas.report(tenantId);
    assert.equal(report!.storedBytes, await storedBytes(tenantId));
    assert.ok(report!.storedBytes <= Math.max(...bytes) + 10);
  });
});
