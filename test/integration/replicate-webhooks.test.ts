import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NotificationListener } from "../../src/events/notification-listener.js";
import { silentLogger } from "../../src/logger.js";
import { PredictionWakeups } from "../../src/providers/replicate/prediction-waiter.js";
import { signWebhook } from "../../src/providers/replicate/webhook-signature.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fakeWebhookSecret } from "../helpers/fake-replicate.js";

const SECRET = fakeWebhookSecret();

/** Whether a wake-up for `id` comes within `ms` (listening starts now). */
async function wokenWithin(wakeups: PredictionWakeups, id: string, ms: number): Promise<boolean> {
  const watch = wakeups.watch(id);
  try {
    return await watch.wait(ms);
  } finally {
    watch.close();
  }
}
const OTHER_LISTENER = "propvid-test-other-worker";

/**
 * The webhook route and the wake-ups it sends through PostgreSQL: a second NotificationListener
 * on the same database stands for a worker process (its own connection, its own waiters).
 */
describe("POST /v1/webhooks/replicate", () => {
  let app: InProcessApp;
  let worker: NotificationListener;
  let wakeups: PredictionWakeups;
  before(async () => {
    app = await startInProcessApp({ REPLICATE_WEBHOOK_SECRET: SECRET }, { workers: false });
    // Connected before any waiter, so only an announcement can wake one (not the connection's own wake-up).
    await app.services.notifications.start();
    const url = (app.services.dataSource.options as { url: string }).url;
    worker = new NotificationListener({
      connectionString: url,
      logger: silentLogger,
      applicationName: OTHER_LISTENER,
    });
    wakeups = new PredictionWakeups(worker);
    await worker.start();
  });
  after(async () => {
    await worker?.stop();
    await app?.close();
  });

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

  it("records a signed delivery once and wakes the waiters on its prediction in every process", async () => {
    const elsewhere = wokenWithin(wakeups, "pred1", 5_000);
    const here = wokenWithin(app.services.predictionWakeups, "pred1", 5_000);
    const bystander = wokenWithin(wakeups, "pred9", 1_000);
    const response = await deliver("msg_ok_1", {
      id: "pred1",
      status: "succeeded",
      output: "http://127.0.0.1:1/x.mp4",
    });
    assert.equal(response.statusCode, 200);
    assert.equal(await elsewhere, true, "the waiter in the other process wakes");
    assert.equal(await here, true, "and the one in the receiving process");
    assert.equal(await bystander, false, "a waiter on another prediction sleeps on");
    assert.equal(await rows("msg_ok_1"), 1);

    const replayWake = wokenWithin(wakeups, "pred1", 500);
    const replay = await deliver("msg_ok_1", { id: "pred1", status: "succeeded" });
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.json().duplicate, true);
    assert.equal(await replayWake, false, "a replayed delivery has no effect");
    assert.equal(await rows("msg_ok_1"), 1);
  });

  it("refuses a stale timestamp and a bad signature, with no state change and no wake-up", async () => {
    const woken = wokenWithin(wakeups, "pred2", 1_500);
    const stale = await deliver(
      "msg_stale",
      { id: "pred2", status: "succeeded" },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
    );
    assert.equal(stale.statusCode, 401);
    assert.equal(await rows("msg_stale"), 0);
    const forged = await deliver(
      "msg_forged",
      { id: "pred2", status: "succeeded" },
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
    assert.equal(await woken, false);
  });

  it("tolerates out-of-order events: a late `starting` after `completed` wakes nobody", async () => {
    const woken = wokenWithin(wakeups, "pred3", 5_000);
    assert.equal((await deliver("msg_o_2", { id: "pred3", status: "succeeded" })).statusCode, 200);
    assert.equal(await woken, true);
    const late = wokenWithin(wakeups, "pred3", 500);
    assert.equal((await deliver("msg_o_1", { id: "pred3", status: "starting" })).statusCode, 200);
    assert.equal(await late, false, "a non-final event wakes nobody; the adapter reads the state itself");
    assert.equal(await rows("msg_o_1"), 1, "it is still recorded");
  });

  it("wakes every waiter after its connection comes back (a webhook may have been missed meanwhile)", async () => {
    const woken = wokenWithin(wakeups, "pred4", 10_000);
    const [backend] = await app.services.dataSource.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1",
      [OTHER_LISTENER],
    );
    assert.equal(backend?.done, true, "the other process's listener was cut off");
    assert.equal(await woken, true);
    assert.ok(worker.stats.reconnects >= 1);
    // And it hears announcements again.
    const again = wokenWithin(wakeups, "pred5", 5_000);
    assert.equal((await deliver("msg_after_reconnect", { id: "pred5", status: "failed" })).statusCode, 200);
    assert.equal(await again, true);
  });
});
