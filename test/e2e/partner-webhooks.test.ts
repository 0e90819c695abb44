import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { campaignWithPhotos, waitForJob } from "../helpers/pipeline.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

const CREATE = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url events enabled } }
}`;

/**
 * Outbound partner webhooks end to end: the real app (pg-boss workers, the video pipeline on
 * the embedded providers) delivering to a receiver that verifies every request with the
 * `standardwebhooks` package, an implementation independent of ours.
 */
describe("partner webhooks", () => {
  let app: InProcessApp;
  let receiver: WebhookReceiver;
  let url: string;
  let key: string;
  let tenantId: string;

  before(async () => {
    receiver = new WebhookReceiver();
    url = await receiver.start();
    app = await startInProcessApp(
      { PATH: process.env.PATH ?? "", PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "true" },
      { listen: true },
    );
    ({ key, tenantId } = await app.newTenant("partner"));
  });
  after(async () => {
    await app?.close();
    await receiver?.stop();
  });

  it("delivers VIDEO_JOB_SUCCEEDED signed per Standard Webhooks; a 500 is retried within 10 s with the same webhook-id", async () => {
    const created = await app.graphql<{
      createWebhookEndpoint: { secret: string; endpoint: { id: string; events: string[] } };
    }>(key, CREATE, { input: { url, events: ["VIDEO_JOB_SUCCEEDED"], description: "CRM" } });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(endpoint.events, ["VIDEO_JOB_SUCCEEDED"]);
    receiver.secrets.push(secret);
    receiver.answer = (index) => (index === 0 ? 500 : 200);

    const { campaignId } = await campaignWithPhotos(app.services, tenantId, [
      "exterior-01.jpg",
      "living-01.jpg",
      "kitchen-01.jpg",
    ]);
    const job = await app.services.pipeline.create(tenantId, {
      campaignId,
      sceneCount: 3,
      secondsPerScene: 2,
    });
    const finished = await waitForJob(app.services, job.id);
    assert.equal(finished.status, "SUCCEEDED");

    const [first, retry] = await receiver.waitFor(2, undefined, 30_000);
    assert.equal(first!.status, 500);
    assert.equal(retry!.status, 200);
    assert.deepEqual(first!.verifiedWith, [secret], "the first attempt verifies");
    assert.deepEqual(retry!.verifiedWith, [secret], "the retry verifies");
    assert.equal(retry!.id, first!.id, "same webhook-id on every attempt");
    assert.match(first!.id, /^msg_[0-9a-f]{32}$/);
    assert.notEqual(retry!.signature, first!.signature, "a fresh signature");
    const gap = retry!.at - first!.at;
    assert.ok(gap >= 4_000 && gap <= 10_000, `the retry came ${gap} ms after the first attempt`);

    const body = JSON.parse(retry!.body);
    assert.equal(body.type, "video_job.succeeded");
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
    assert.equal(body.data.id, job.id);
    assert.equal(body.data.campaignId, campaignId);
    assert.equal(body.data.status, "SUCCEEDED");
    assert.ok(body.data.video.durationSeconds > 5, "duration");
    assert.ok(body.data.cost.totalUsd >= 0, "cost");
    const expires = Date.parse(body.data.video.urlExpiresAt) - Date.now();
    assert.ok(expires > 23 * 3600_000 && expires <= 24 * 3600_000, "signed URL valid 24 h");
    const video = await fetch(body.data.video.url);
    assert.equal(video.status, 200);
    assert.equal(video.headers.get("content-type"), "video/mp4");
    await video.arrayBuffer();
    const poster = await fetch(body.data.video.posterUrl);
    assert.equal(poster.status, 200);
    await poster.arrayBuffer();

    // The log shows the two attempts; nothing more is due.
    const log = await app.graphql<{
      webhookDeliveries: {
        edges: {
          node: {
            webhookId: string;
            eventType: string;
            status: string;
            attempts: number;
            lastStatusCode: number;
            nextAttemptAt: string | null;
            attemptLog: { statusCode: number; responseExcerpt: string }[];
          };
        }[];
      };
    }>(
      key,
      `query($e: ID!) { webhookDeliveries(endpointId: $e) { edges { node {
        webhookId eventType status attempts lastStatusCode nextAttemptAt attemptLog { statusCode responseExcerpt } } } } }`,
      { e: endpoint.id },
    );
    assert.equal(log.body.errors, undefined, JSON.stringify(log.body.errors));
    const [delivery] = log.body.data!.webhookDeliveries.edges.map((edge) => edge.node);
    assert.equal(delivery!.webhookId, first!.id);
    assert.equal(delivery!.eventType, "video_job.succeeded");
    assert.equal(delivery!.status, "DELIVERED");
    assert.equal(delivery!.attempts, 2);
    assert.equal(delivery!.lastStatusCode, 200);
    assert.equal(delivery!.nextAttemptAt, null);
    assert.deepEqual(
      delivery!.attemptLog.map((attempt) => [attempt.statusCode, attempt.responseExcerpt]),
      [
        [500, "receiver says no"],
        [200, "ok"],
      ],
    );
  });
});
