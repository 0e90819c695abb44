import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { predictionEvents } from "../../src/providers/replicate/prediction-waiter.js";
import { signWebhook } from "../../src/providers/replicate/webhook-signature.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fakeWebhookSecret } from "../helpers/fake-replicate.js";

const SECRET = fakeWebhookSecret();

describe("POST /v1/webhooks/replicate", () => {
  let app: InProcessApp;
  before(async () => {
    app = await startInProcessApp({ REPLICATE_WEBHOOK_SECRET: SECRET }, { workers: false });
  });
  after(async () => app?.close());

  const deliver = async (
    id: string,
    prediction: Record<string, unknown>,
    options: { timestamp?: number; secret?: string } = {},
  ) => {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const body = JSON.stringify(prediction);
    return await app.app.inject({
      method: "POST",
      url: "/v1/webhooks/replicate?scene=abc",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signWebhook(options.secret ?? SECRET, id, timestamp, body),
      },
      payload: body,
    });
  };
  const rows = async (id: string) =>
    (await app.services.dataSource.query("SELECT id FROM webhook_delivery WHERE id = $1", [id])).length;

  it("accepts a signed delivery once and wakes the waiting adapter", async () => {
    const woken = predictionEvents.next("pred-1", 2_000);
    const response = await deliver("msg_ok_1", {
      id: "pred-1",
      status: "succeeded",
      output: "http://127.0.0.1:1/x.mp4",
    });
    assert.equal(response.statusCode, 200);
    assert.equal((await woken)?.status, "succeeded");
    assert.equal(await rows("msg_ok_1"), 1);

    const replayWake = predictionEvents.next("pred-1", 300);
    const replay = await deliver("msg_ok_1", { id: "pred-1", status: "succeeded" });
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.json().duplicate, true);
    assert.equal(await replayWake, undefined, "a replayed delivery has no effect");
    assert.equal(await rows("msg_ok_1"), 1);
  });

  it("refuses a stale timestamp and a bad signature, with no state change", async () => {
    const stale = await deliver(
      "msg_stale",
      { id: "pred-2", status: "succeeded" },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
    );
    assert.equal(stale.statusCode, 401);
    assert.equal(await rows("msg_stale"), 0);
    const forged = await deliver(
      "msg_forged",
      { id: "pred-2", status: "succeeded" },
      { secret: `whsec_${Buffer.from("not-the-secret").toString("base64")}` },
    );
    assert.equal(forged.statusCode, 401);
    assert.equal(await rows("msg_forged"), 0);
    const unsigned = await app.app.inject({
      method: "POST",
      url: "/v1/webhooks/replicate",
      headers: { "content-type": "application/json" },
      payload: "{}",
    });
    assert.equal(unsigned.statusCode, 401);
  });

  it("tolerates out-of-order events: a late `starting` after `completed` does not undo it", async () => {
    const woken = predictionEvents.next("pred-3", 2_000);
    assert.equal((await deliver("msg_o_2", { id: "pred-3", status: "succeeded" })).statusCode, 200);
    assert.equal((await woken)?.status, "succeeded");
    const late = predictionEvents.next("pred-3", 300);
    assert.equal((await deliver("msg_o_1", { id: "pred-3", status: "starting" })).statusCode, 200);
    assert.equal(await late, undefined, "a non-final event wakes nobody; the adapter reads the state itself");
  });
});
