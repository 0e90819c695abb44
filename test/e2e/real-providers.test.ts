import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { SceneEntity } from "../../src/db/entities/index.js";
import { probeMedia } from "../../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { FakeReplicate, fakeWebhookSecret } from "../helpers/fake-replicate.js";
import { FakeXai } from "../helpers/fake-xai.js";
import { campaignWithPhotos, SEVEN_SCENE_PHOTOS, waitForJob } from "../helpers/pipeline.js";
import { topLevelBoxes } from "../helpers/video-checks.js";

const REPLICATE_TOKEN = "test-replicate-token";
const XAI_KEY = "test-xai-key";

/**
 * The acceptance of the real-provider adapters: every key pointed at local fakes that speak the
 * providers' APIs (and fetch our signed photo URLs over a real socket), one 7-scene job with
 * Veo 3.1 Fast, MusicGen and Grok, and the same output bar as the embedded providers.
 */
describe("video pipeline with the real providers (local fakes)", () => {
  let app: InProcessApp;
  let replicate: FakeReplicate;
  let xai: FakeXai;
  let dir: string;

  before(async () => {
    const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
    const secret = fakeWebhookSecret();
    replicate = await new FakeReplicate({ token: REPLICATE_TOKEN, ffmpeg, webhookSecret: secret }).start();
    xai = await new FakeXai(XAI_KEY).start();
    app = await startInProcessApp(
      {
        PATH: process.env.PATH ?? "",
        REPLICATE_API_TOKEN: REPLICATE_TOKEN,
        REPLICATE_BASE_URL: replicate.baseUrl,
        REPLICATE_WEBHOOK_SECRET: secret,
        XAI_API_KEY: XAI_KEY,
        XAI_BASE_URL: xai.baseUrl,
        PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1",
        REPLICATE_OUTPUT_HOSTS: "127.0.0.1",
      },
      { listen: true },
    );
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-real-providers-"));
  });
  after(async () => {
    await app?.close();
    await replicate?.close();
    await xai?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists the configured providers with capabilities and prices", async () => {
    const { key } = await app.newTenant("providers");
    const result = await app.graphql<{
      providers: {
        name: string;
        role: string;
        durations: number[] | null;
        price: { unitPriceUsd: number; asOf: string | null };
      }[];
    }>(
      key,
      "{ providers { name role description durations resolutions aspectRatios maxSeconds price { unit unitPriceUsd asOf } } }",
    );
    const names = result.body.data!.providers.map((p) => p.name);
    for (const name of [
      "local",
      "heuristic",
      "replicate:google/veo-3.1-fast",
      "replicate:minimax/hailuo-02",
      "replicate:meta/musicgen",
      "xai:grok-4",
    ]) {
      assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
    }
    const hailuo = result.body.data!.providers.find((p) => p.name === "replicate:minimax/hailuo-02")!;
    assert.deepEqual(hailuo.durations, [6, 10]);
    assert.ok(hailuo.price.asOf);
  });

  it("makes the 7-scene, 31 s video with Veo, MusicGen and Grok", async (t) => {
    const started = Date.now();
    const { key, tenantId } = await app.newTenant("real");
    const { campaignId, assetIds } = await campaignWithPhotos(app.services, tenantId, SEVEN_SCENE_PHOTOS);
    const created = await app.graphql<{ createVideoJob: { id: string; status: string } }>(
      key,
      `mutation($input: CreateVideoJobInput!) { createVideoJob(input: $input) { id status } }`,
      {
        input: {
          campaignId,
          videoProvider: "replicate:google/veo-3.1-fast",
          musicProvider: "replicate:meta/musicgen",
          selector: "xai:grok-4",
        },
      },
    );
    assert.equal(created.body.data?.createVideoJob.status, "QUEUED", JSON.stringify(created.body));
    const jobId = created.body.data!.createVideoJob.id;
    const job = await waitForJob(app.services, jobId, 110_000);
    t.diagnostic(`real-provider job took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(job.status, "SUCCEEDED", job.error ?? "");

    // Grok chose, from our photos, fetched by the fake through signed URLs.
    assert.ok(xai.requests.length >= 1);
    assert.ok(xai.fetchedImages.length > 0 && xai.fetchedImages.every((f) => f.status === 200));
    const scenes = await app.services.dataSource
      .getRepository(SceneEntity)
      .find({ where: { jobId }, order: { index: "ASC" } });
    assert.equal(scenes.length, 7);
    for (const scene of scenes) {
      assert.match(scene.reasoning ?? "", /Chosen by the fake/);
      assert.ok(assetIds.includes(scene.firstAssetId!));
      assert.ok(scene.providerRef, "prediction id stored");
      assert.equal(Number(scene.costUsd), 0.4);
    }
    // Replicate fetched both frames of every scene from our media route, and woke us by webhook.
    const videoCreates = replicate.creates.filter((c) => c.model === "google/veo-3.1-fast");
    assert.equal(videoCreates.length, 7, "one prediction per scene");
    for (const create of videoCreates) {
      const input = create.body.input as Record<string, string>;
      assert.match(input.image!, new RegExp(`^${app.baseUrl}/v1/media/`));
      assert.match(String(create.body.webhook), /\/v1\/webhooks\/replicate\?scene=/);
    }
    assert.ok(
      replicate.fetchedInputs.length >= 7 &&
        replicate.fetchedInputs.every((f) => f.status === 200 && f.bytes > 0),
    );
    assert.ok(replicate.webhooksSent.some((w) => w.status === 200));
    assert.equal(
      replicate.creates.filter((c) => c.model === "meta/musicgen").length,
      2,
      "31 s takes two MusicGen predictions (30 s at most each), joined on a re-anchored tail",
    );

    // Itemised actual cost: every scene's VIDEO item is the provider's charge.
    const cost = await app.graphql<{
      videoJob: { cost: { totalUsd: number; items: { kind: string; usd: number }[] } };
    }>(key, "query($id: ID!) { videoJob(id: $id) { cost { totalUsd items { kind usd } } } }", { id: jobId });
    const items = cost.body.data!.videoJob.cost.items;
    assert.deepEqual(
      items.filter((i) => i.kind === "VIDEO").map((i) => i.usd),
      Array(7).fill(0.4),
    );
    assert.ok(items.find((i) => i.kind === "SELECTION")!.usd > 0, "Grok's token charge is recorded");
    assert.ok(cost.body.data!.videoJob.cost.totalUsd >= 2.8);

    const [row] = await app.services.dataSource.query("SELECT video_media_id FROM video_job WHERE id = $1", [
      jobId,
    ]);
    const media = await app.services.media.byId(tenantId, row.video_media_id);
    const file = path.join(dir, "video.mp4");
    await app.services.media.toFile(media!, file);
    const { ffprobe } = app.services.ffmpeg;
    const info = await probeMedia(ffprobe, file, { timeoutMs: 30_000 });
    const video = info.streams.find((s) => s.type === "video")!;
    const audio = info.streams.find((s) => s.type === "audio")!;
    assert.equal(video.codec, "h264");
    assert.equal(video.width, 1920);
    assert.equal(video.height, 1080);
    assert.ok(Math.abs((video.frames ?? 0) - 930) <= 1, `frames ${video.frames}`);
    assert.equal(audio.codec, "aac");
    assert.ok(Math.abs((info.durationSeconds ?? 0) - 31) <= 0.1, `duration ${info.durationSeconds}`);
    const boxes = await topLevelBoxes(file);
    assert.ok(boxes.indexOf("moov") < boxes.indexOf("mdat"), `faststart: ${boxes.join(",")}`);
    writeFileSync(path.join(dir, "done"), "");
  });
});
