import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { EventLoopWindow } from "../../src/http/debug.routes.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";

/** The benchmarks' window on the API's event loop: outside production only, behind an API key. */
describe("GET /v1/debug/event-loop", () => {
  let app: InProcessApp;
  let key: string;

  before(async () => {
    app = await startInProcessApp({}, { workers: false });
    key = (await app.newTenant("debug")).key;
  });
  after(async () => {
    await app.close();
  });

  const get = (apiKey?: string) =>
    app.app.inject({
      method: "GET",
      url: "/v1/debug/event-loop",
      headers: apiKey ? { "x-api-key": apiKey } : {},
    });

  it("reports the event loop's lateness since the previous call, then starts a new window", async () => {
    await get(key);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const started = performance.now();
    while (performance.now() - started < 80) {
      // hold the thread: the next timer tick is at least this late
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const response = await get(key);
    assert.equal(response.statusCode, 200);
    const window = response.json() as EventLoopWindow;
    assert.ok(window.samples > 0);
    assert.ok(window.max >= 60, `max lateness ${window.max} ms after an 80 ms block`);
    assert.ok(window.windowMs >= 150);
    assert.equal(window.resolutionMs, 10);
    const next = (await get(key)).json() as EventLoopWindow;
    assert.ok(next.windowMs < window.windowMs, "a new window started");
  });

  it("answers 401 without a key", async () => {
    assert.equal((await get()).statusCode, 401);
  });

  it("does not exist in production", async () => {
    const production = await startInProcessApp({ NODE_ENV: "production" }, { workers: false });
    try {
      const created = await production.newTenant("prod");
      const response = await production.app.inject({
        method: "GET",
        url: "/v1/debug/event-loop",
        headers: { "x-api-key": created.key },
      });
      assert.equal(response.statusCode, 404);
    } finally {
      await production.close();
    }
  });
});
