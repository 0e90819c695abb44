import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { summariseBatch } from "../../src/services/video-job-batch.writes.js";
import {
  MAX_ATTEMPTS,
  nextRetryDelaySeconds,
  RETRY_SCHEDULE_SECONDS,
  shouldDisable,
} from "../../src/webhooks/webhook-schedule.js";
import { generateWebhookSecret, WebhookSecretBox } from "../../src/webhooks/webhook-secrets.js";
import { renderBody, webhookHeaders, webhookIdOf } from "../../src/webhooks/webhook-signing.js";

const MESSAGE_ID = "0b9d3c1e-5f4a-4c2b-9e8d-7a6b5c4d3e2f";

describe("partner webhooks: wire format", () => {
  it("signs per Standard Webhooks: the standardwebhooks package verifies it", () => {
    const secret = generateWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({
      type: "video_job.succeeded",
      timestamp: "2026-12-01T00:00:00.000Z",
      data: {},
    });
    const headers = webhookHeaders({
      messageId: MESSAGE_ID,
      timestampSeconds: Math.floor(Date.now() / 1000),
      body,
      secrets: [secret],
    });
    assert.equal(headers["webhook-id"], "msg_0b9d3c1e5f4a4c2b9e8d7a6b5c4d3e2f");
    assert.match(headers["webhook-signature"]!, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(secret).verify(`${body} `, headers), "a changed body does not verify");
    assert.throws(
      () => new Webhook(generateWebhookSecret()).verify(body, headers),
      "another secret does not verify",
    );
  });

  it("carries one signature per secret during a rotation; either secret verifies", () => {
    const [fresh, old] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = '{"type":"webhook.test"}';
    const headers = webhookHeaders({
      messageId: MESSAGE_ID,
      timestampSeconds: Math.floor(Date.now() / 1000),
      body,
      secrets: [fresh, old],
    });
    assert.equal(headers["webhook-signature"]!.split(" ").length, 2);
    for (const secret of [fresh, old]) assert.ok(new Webhook(secret).verify(body, headers));
  });

  it("keeps the webhook-id of a message and fills in fresh signed URLs at each attempt", () => {
    assert.equal(webhookIdOf(MESSAGE_ID), webhookIdOf(MESSAGE_ID));
    const payload = {
      type: "video_job.succeeded",
      timestamp: "2026-12-01T00:00:00.000Z",
      data: { id: "job", video: { durationSeconds: 28 } },
    };
    let signed = 0;
    const render = () =>
      JSON.parse(
        renderBody(payload, { url: "media-video", posterUrl: "media-poster" }, (mediaId) => ({
          url: `https://api.example/v1/media/${mediaId}?token=${++signed}`,
          expiresAt: new Date(Date.UTC(2026, 11, 2)),
        })),
      );
    const first = render();
    const second = render();
    assert.equal(first.data.video.durationSeconds, 28);
    assert.equal(first.data.video.url, "https://api.example/v1/media/media-video?token=1");
    assert.equal(first.data.video.posterUrl, "https://api.example/v1/media/media-poster?token=2");
    assert.equal(first.data.video.urlExpiresAt, "2026-12-02T00:00:00.000Z");
    assert.notEqual(second.data.video.url, first.data.video.url);
    assert.equal(second.timestamp, first.timestamp, "the event's time is the same on every attempt");
    assert.equal(
      renderBody(payload, {}, () => assert.fail("nothing to sign")),
      JSON.stringify(payload),
    );
  });
});

describe("partner webhooks: policy", () => {
  it("retries on a growing schedule whose first retry comes within 10 s", () => {
    assert.ok(nextRetryDelaySeconds(1)! <= 10);
    for (let attempt = 2; attempt < MAX_ATTEMPTS; attempt++)
      assert.ok(nextRetryDelaySeconds(attempt)! >= nextRetryDelaySeconds(attempt - 1)!);
    assert.equal(nextRetryDelaySeconds(MAX_ATTEMPTS), null, "the schedule ends");
    assert.equal(MAX_ATTEMPTS, RETRY_SCHEDULE_SECONDS.length + 1);
  });

  it("disables an endpoint only after 5 days of failures", () => {
    const since = new Date(Date.UTC(2026, 0, 1));
    assert.equal(shouldDisable(since, new Date(since.getTime() + 5 * 86_400_000 - 1)), false);
    assert.equal(shouldDisable(since, new Date(since.getTime() + 5 * 86_400_000)), true);
  });

  it("seals secrets so that only this server key, for this endpoint, opens them", () => {
    const box = new WebhookSecretBox("server-secret-".padEnd(48, "s"));
    const secret = generateWebhookSecret();
    const sealed = box.seal(secret, "endpoint-a");
    assert.ok(!sealed.includes(secret.slice(6)));
    assert.notEqual(box.seal(secret, "endpoint-a"), sealed, "a fresh IV each time");
    assert.equal(box.open(sealed, "endpoint-a"), secret);
    assert.throws(() => box.open(sealed, "endpoint-b"), /cannot be read/);
    assert.throws(
      () => new WebhookSecretBox("another-".padEnd(48, "x")).open(sealed, "endpoint-a"),
      /cannot be read/,
    );
    assert.throws(() => box.open(`${sealed.slice(0, -2)}AA`, "endpoint-a"), /cannot be read/);
  });

  it("summarises a batch: COMPLETED once every job has ended", () => {
    const running = summariseBatch([
      { status: "SUCCEEDED", progress: 1 },
      { status: "RENDERING", progress: 0.5 },
    ]);
    assert.deepEqual(running, {
      status: "RUNNING",
      progress: 0.75,
      jobCount: 2,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
    });
    const done = summariseBatch([
      { status: "SUCCEEDED", progress: 1 },
      { status: "FAILED", progress: 0.2 },
    ]);
    assert.equal(done.status, "COMPLETED");
    assert.equal(done.progress, 1);
    assert.equal(done.failed, 1);
  });
});
