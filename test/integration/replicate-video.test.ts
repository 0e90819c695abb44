import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { isAppError } from "../../src/errors.js";
import { probeMedia } from "../../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { ReplicateClient } from "../../src/providers/replicate/replicate-client.js";
import { type ReplicateVideoModel, videoModel } from "../../src/providers/replicate/replicate-models.js";
import { ReplicateVideoProvider } from "../../src/providers/replicate/replicate-video.provider.js";
import type { VideoRenderRequest } from "../../src/providers/types.js";
import { FAKE_REPLICATE_OUTPUTS, FakeReplicate } from "../helpers/fake-replicate.js";
import { fixturePhoto } from "../helpers/fixtures.js";

const TOKEN = "test-replicate-token";

/** The Replicate video adapter against a local server speaking Replicate's API. */
describe("Replicate video adapter", () => {
  const { ffmpeg, ffprobe } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
  let fake: FakeReplicate;
  let dir: string;
  let logs: string[];
  let logger: pino.Logger;

  before(async () => {
    fake = await new FakeReplicate({ token: TOKEN, ffmpeg }).start();
    dir = mkdtempSync(path.join(os.tmpdir(), "replicate-video-test-"));
    logs = [];
    logger = pino(
      { level: "debug" },
      new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
  });
  after(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `publicBaseUrl`: an unreachable one, so predictions carry our webhook tag (deliveries just fail). */
  const provider = (model: ReplicateVideoModel | string, token = TOKEN, publicBaseUrl?: string) =>
    new ReplicateVideoProvider({
      client: new ReplicateClient({
        apiToken: token,
        baseUrl: fake.baseUrl,
        backoffMs: 10,
        outputs: FAKE_REPLICATE_OUTPUTS,
      }),
      model: typeof model === "string" ? videoModel(model)! : model,
      ffmpeg,
      logger,
      pollIntervalMs: 20,
      publicBaseUrl,
    });
  const TAGGED = "http://127.0.0.1:9";

  let n = 0;
  const request = (extra: Partial<VideoRenderRequest> = {}): VideoRenderRequest => {
    const work = mkdtempSync(path.join(dir, "scene-"));
    n += 1;
    return {
      firstImagePath: fixturePhoto("living-01.jpg"),
      lastImagePath: fixturePhoto("living-03.jpg"),
      cameraMove: "PUSH_IN",
      prompt: `A bright living room ${n}`,
      seconds: 4,
      width: 1920,
      height: 1080,
      fps: 30,
      outFile: path.join(work, "clip.mp4"),
      workDir: work,
      ...extra,
    };
  };

  async function assertHouseClip(file: string, seconds: number) {
    const info = await probeMedia(ffprobe, file, { timeoutMs: 30_000 });
    const video = info.streams.find((s) => s.type === "video")!;
    assert.equal(video.codec, "h264");
    assert.equal(video.width, 1920);
    assert.equal(video.height, 1080);
    assert.ok(Math.abs((video.fps ?? 0) - 30) < 0.01, `fps ${video.fps}`);
    assert.equal(video.frames, seconds * 30);
    assert.equal(info.streams.filter((s) => s.type === "audio").length, 0);
  }

  for (const [model, billed, fields] of [
    ["google/veo-3.1-fast", 4, ["image", "last_frame", "generate_audio", "resolution", "aspect_ratio"]],
    ["google/veo-3.1", 4, ["image", "last_frame"]],
    ["minimax/hailuo-02", 6, ["first_frame_image", "last_frame_image"]],
    ["kwaivgi/kling-v2.1", 5, ["start_image", "end_image", "mode"]],
  ] as const) {
    it(`renders a 4 s scene with ${model} (billed ${billed} s) in the house encoding`, async () => {
      const before = fake.creates.length;
      const refs: string[] = [];
      const req = request({ onProviderRef: async (ref) => void refs.push(ref) });
      const result = await provider(model).render(req);
      await assertHouseClip(result.outFile, 4);
      const created = fake.creates.slice(before);
      assert.equal(created.length, 1);
      const input = created[0]!.body.input as Record<string, unknown>;
      assert.equal(input.duration, billed);
      for (const field of fields) assert.ok(field in input, `${model} input ${field}`);
      assert.equal(created[0]!.headers["cancel-after"], "10m");
      assert.equal(refs.length, 1, "the prediction id is stored before waiting");
      assert.equal(result.costUsd, Math.round(billed * videoModel(model)!.usdPerSecond * 10_000) / 10_000);
    });
  }

  it("retries a 5xx inside the adapter, then succeeds", async () => {
    const before = fake.creates.length;
    fake.failCreates = 2;
    const result = await provider("google/veo-3.1-fast").render(request());
    assert.equal(fake.creates.length - before, 3);
    await assertHouseClip(result.outFile, 4);
  });

  it("fails at once on a 422 with the provider's message, not transient", async () => {
    const bad: ReplicateVideoModel = { ...videoModel("google/veo-3.1-fast")!, durations: [7] };
    const before = fake.creates.length;
    await assert.rejects(provider(bad).render(request()), (error) => {
      assert.ok(isAppError(error));
      assert.equal(error.code, "PROVIDER_FAILED");
      assert.equal(error.transient, false);
      assert.match(error.message, /duration: must be one of 4, 6, 8/);
      return true;
    });
    assert.equal(fake.creates.length - before, 1, "a 4xx is not retried");
  });

  it("retries once with a softened prompt after a safety block, then tells the user", async () => {
    fake.moderationFailures = 1;
    let before = fake.creates.length;
    const result = await provider("google/veo-3.1-fast").render(request());
    await assertHouseClip(result.outFile, 4);
    const created = fake.creates.slice(before);
    assert.equal(created.length, 2);
    assert.notEqual(
      (created[0]!.body.input as { prompt: string }).prompt,
      (created[1]!.body.input as { prompt: string }).prompt,
    );

    fake.moderationFailures = 2;
    before = fake.creates.length;
    await assert.rejects(provider("google/veo-3.1-fast").render(request()), (error) => {
      assert.ok(isAppError(error));
      assert.equal(error.transient, false);
      assert.match(error.message, /safety filter/);
      return true;
    });
    assert.equal(fake.creates.length - before, 2);
  });

  it("cancels the running prediction when the render is aborted", async () => {
    fake.hang = true;
    const controller = new AbortController();
    let ref = "";
    const rendering = provider("google/veo-3.1-fast").render(
      request({
        signal: controller.signal,
        onProviderRef: async (id) => {
          ref = id;
          setTimeout(() => controller.abort(), 50);
        },
      }),
    );
    await assert.rejects(rendering, (error) => isAppError(error) && error.code === "CANCELLED");
    fake.hang = false;
    assert.equal(fake.predictions.get(ref)?.status, "canceled");
  });

  it("adopts a prediction created before a crash instead of creating a second one", async () => {
    const veo = provider("google/veo-3.1-fast", TOKEN, TAGGED);
    const req = request({ jobId: "job-crash", sceneIndex: 3 });
    // What the crashed attempt sent: same inputs, our scene key in the webhook URL.
    fake.hang = true;
    const orphan = await fake.createDirect("google/veo-3.1-fast", {
      input: { image: "data:image/jpeg;base64,AAAA", prompt: "x", duration: 4, generate_audio: false },
      webhook: "http://127.0.0.1:9/v1/webhooks/replicate?scene=old&key=job-crash.3",
    });
    const extra = await fake.createDirect("google/veo-3.1-fast", {
      input: { image: "data:image/jpeg;base64,AAAA", prompt: "x", duration: 4, generate_audio: false },
      webhook: "http://127.0.0.1:9/v1/webhooks/replicate?scene=older&key=job-crash.3",
    });
    const before = fake.creates.length;
    const refs: string[] = [];
    // Both stay unfinished until the adapter has chosen (a loaded machine may take its time).
    const result = await veo.render({
      ...req,
      onProviderRef: async (id) => {
        refs.push(id);
        fake.hang = false;
      },
    });
    assert.equal(fake.creates.length, before, "no new prediction");
    assert.equal(refs.length, 1);
    assert.ok([orphan.id, extra.id].includes(refs[0]!));
    const statuses = [orphan, extra].map((p) => fake.predictions.get(p.id)!.status).sort();
    assert.deepEqual(statuses, ["canceled", "succeeded"], "one adopted, the duplicate cancelled");
    await assertHouseClip(result.outFile, 4);
    assert.equal(result.costUsd, 0.4, "one clip billed");
  });

  it("records the cost of a duplicate that had already finished", async () => {
    const input = { image: "data:image/jpeg;base64,AAAA", prompt: "z", duration: 4, generate_audio: false };
    await fake.createDirect("google/veo-3.1-fast", {
      input,
      webhook: "http://127.0.0.1:9/v1/webhooks/replicate?key=job-dup.0",
    });
    await fake.createDirect("google/veo-3.1-fast", {
      input,
      webhook: "http://127.0.0.1:9/v1/webhooks/replicate?key=job-dup.0",
    });
    await fake.idle();
    const before = fake.creates.length;
    const result = await provider("google/veo-3.1-fast", TOKEN, TAGGED).render(
      request({ jobId: "job-dup", sceneIndex: 0 }),
    );
    assert.equal(fake.creates.length, before);
    assert.equal(result.costUsd, 0.8, "the duplicate's charge is recorded");
  });

  it("without a public URL, recognises the crashed attempt's prediction by its inputs", async () => {
    const veo = provider("google/veo-3.1-fast");
    const req = request({ jobId: "job-untagged", sceneIndex: 1 });
    fake.hang = true;
    const before = fake.creates.length;
    // The worker dies right after create, before the id is stored.
    await assert.rejects(
      veo.render({
        ...req,
        onProviderRef: async () => {
          throw new Error("simulated crash before the id is stored");
        },
      }),
      /simulated crash/,
    );
    assert.equal(fake.creates.length - before, 1);
    const refs: string[] = [];
    const retry = veo.render({ ...req, onProviderRef: async (id) => void refs.push(id) });
    await new Promise((resolve) => setTimeout(resolve, 200));
    fake.hang = false;
    const result = await retry;
    assert.equal(fake.creates.length - before, 1, "the retry created nothing");
    assert.equal(refs[0], [...fake.predictions.values()].at(-1)!.id, "the earlier prediction was adopted");
    await assertHouseClip(result.outFile, 4);
  });

  it("adopts the stored providerRef on retry", async () => {
    const done = await fake.createDirect("google/veo-3.1-fast", {
      input: { image: "data:image/jpeg;base64,AAAA", prompt: "y", duration: 4, generate_audio: false },
    });
    await fake.idle();
    const before = fake.creates.length;
    const result = await provider("google/veo-3.1-fast").render(request({ providerRef: done.id }));
    assert.equal(fake.creates.length, before);
    await assertHouseClip(result.outFile, 4);
  });

  it("never writes the API token into logs or errors", async () => {
    await assert.rejects(provider("google/veo-3.1-fast", "test-wrong-token").render(request()), (error) => {
      assert.ok(isAppError(error));
      assert.equal(error.transient, false);
      assert.doesNotMatch(
        `${error.message} ${JSON.stringify(error.details)} ${error.stack}`,
        /test-wrong-token|test-replicate-token/,
      );
      logger.warn({ err: error }, "render failed");
      return true;
    });
    const all = logs.join("");
    assert.ok(all.length > 0);
    assert.doesNotMatch(all, /test-replicate-token|test-wrong-token/);
  });
});
