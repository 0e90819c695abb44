/**
 * The one retry layer of the Replicate client, counted at a local server speaking Replicate's API:
 * how many requests a failing GET and a failing create cost, and which failures are not repeated.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { type AppError, isAppError } from "../../src/errors.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { ReplicateClient } from "../../src/providers/replicate/replicate-client.js";
import { FAKE_REPLICATE_OUTPUTS, FakeReplicate } from "../helpers/fake-replicate.js";

const TOKEN = "test-replicate-token";
const VIDEO_INPUT = { input: { image: "data:image/png;base64,AAAA", duration: 4, generate_audio: false } };

describe("Replicate client retries", () => {
  const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
  let fake: FakeReplicate;
  let client: ReplicateClient;

  before(async () => {
    fake = await new FakeReplicate({ token: TOKEN, ffmpeg, renderDelayMs: 10_000 }).start();
    client = new ReplicateClient({
      apiToken: TOKEN,
      baseUrl: fake.baseUrl,
      backoffMs: 10,
      outputs: FAKE_REPLICATE_OUTPUTS,
    });
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.failCreates = 0;
    fake.failGets = 0;
  });
  after(async () => {
    await fake?.close();
  });

  async function failure(promise: Promise<unknown>): Promise<AppError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(isAppError(error), String(error));
      return error;
    }
    assert.fail("expected a failure");
  }

  const requests = (method: string) => fake.requests.filter((request) => request.method === method);

  it("a GET that keeps failing costs exactly 3 requests, then a transient PROVIDER_FAILED", async () => {
    const created = await client.create("google/veo-3.1-fast", VIDEO_INPUT);
    fake.requests.length = 0;
    fake.failGets = 1_000;
    const error = await failure(client.get(created.id));
    assert.equal(error.code, "PROVIDER_FAILED");
    assert.equal(error.transient, true);
    assert.deepEqual(
      fake.requests.map((request) => `${request.method} ${request.status}`),
      ["GET 503", "GET 503", "GET 503"],
    );
  });

  it("a GET that fails twice succeeds on the third request", async () => {
    const created = await client.create("google/veo-3.1-fast", VIDEO_INPUT);
    fake.requests.length = 0;
    fake.failGets = 2;
    assert.equal((await client.get(created.id)).id, created.id);
    assert.deepEqual(
      requests("GET").map((request) => request.status),
      [503, 503, 200],
    );
  });

  it("a create that keeps failing costs exactly 3 requests", async () => {
    fake.failCreates = 1_000;
    const error = await failure(client.create("google/veo-3.1-fast", VIDEO_INPUT));
    assert.equal(error.transient, true);
    assert.equal(requests("POST").length, 3);
    assert.equal(fake.requests.length, 3);
  });

  it("a create refused with 4xx is not repeated, and keeps the provider's reason", async () => {
    const error = await failure(client.create("google/veo-3.1-fast", { input: { duration: 5 } }));
    assert.equal(error.transient, false);
    assert.match(error.message, /duration: must be one of 4, 6, 8/);
    assert.equal(fake.requests.length, 1);
  });

  it("a create that gets no answer is not repeated (it may have created the prediction); a GET is", async () => {
    // A server that reads requests and never answers: each request times out on our side.
    const seen: string[] = [];
    const silent = http.createServer((request) => {
      seen.push(request.method ?? "");
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
    const impatient = new ReplicateClient({ apiToken: TOKEN, baseUrl, backoffMs: 10, requestTimeoutMs: 200 });
    try {
      const created = await failure(impatient.create("google/veo-3.1-fast", VIDEO_INPUT));
      assert.equal(created.transient, true);
      assert.match(created.message, /timed out/);
      assert.deepEqual(seen, ["POST"]);
      seen.length = 0;
      await failure(impatient.get("p1"));
      assert.deepEqual(seen, ["GET", "GET", "GET"]);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
