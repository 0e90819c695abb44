import assert from "node:assert/strict";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { SceneEntity } from "../../src/db/entities/index.js";
import { probeMedia } from "../../src/media/ffmpeg.runner.js";
import { currentWorkDir } from "../../src/media/work-dir.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { campaignWithPhotos, SEVEN_SCENE_PHOTOS, waitForJob } from "../helpers/pipeline.js";
import { readProcStat, runningFfmpegChildren } from "../helpers/procfs.js";
import { blackAndFrozen, measureLoudness, silences, topLevelBoxes } from "../helpers/video-checks.js";

/**
 * The FFmpeg processes this process runs now that write into one of `dirs` (a scene render's
 * encoder writes its clip there; other FFmpeg runs, such as an earlier job's renditions, do not).
 */
function encodersWritingTo(dirs: readonly string[]): number[] {
  return runningFfmpegChildren(process.pid)
    .map((child) => child.pid)
    .filter((pid) => readArgv(pid).some((arg) => dirs.some((dir) => arg.includes(`${dir}/`))));
}

function readArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * The product, end to end with the embedded providers: fixture photos in, a 31 s video out (7 × 4 s scenes and the 3 s outro card),
 * checked with ffprobe/ffmpeg against the quality bar.
 */
describe("video pipeline with the embedded providers", () => {
  let app: InProcessApp;
  let key: string;
  let tenantId: string;
  let campaignId: string;
  let assetIds: string[];
  let dir: string;

  before(async () => {
    app = await startInProcessApp({ PATH: process.env.PATH ?? "" });
    ({ key, tenantId } = await app.newTenant("pipeline"));
    ({ campaignId, assetIds } = await campaignWithPhotos(app.services, tenantId, SEVEN_SCENE_PHOTOS));
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-pipeline-test-"));
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let jobId: string;

  it("makes a 7-scene, 31 s video (with its outro) that meets the quality bar", async (t) => {
    const started = Date.now();
    const created = await app.graphql<{ createVideoJob: { id: string; status: string } }>(
      key,
      `mutation($input: CreateVideoJobInput!) { createVideoJob(input: $input, idempotencyKey: "first") { id status } }`,
      { input: { campaignId } },
    );
    assert.equal(created.body.data?.createVideoJob.status, "QUEUED", JSON.stringify(created.body));
    jobId = created.body.data!.createVideoJob.id;
    const job = await waitForJob(app.services, jobId, 240_000);
    t.diagnostic(`7-scene job took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(job.status, "SUCCEEDED", job.error ?? "");

    const result = await app.graphql<{
      videoJob: {
        status: string;
        progress: number;
        scenes: {
          index: number;
          sceneType: string;
          status: string;
          firstAsset: { id: string };
          lastAsset: { id: string };
          clipUrl: string;
          confidence: number;
          reasoning: string;
        }[];
        video: {
          url: string;
          posterUrl: string;
          durationSeconds: number;
          width: number;
          height: number;
          byteSize: number;
        };
        cost: { totalUsd: number; items: { kind: string }[] };
      };
    }>(
      key,
      `query($id: ID!) { videoJob(id: $id) { status progress
          scenes { index sceneType status firstAsset { id } lastAsset { id } clipUrl confidence reasoning }
          video { url posterUrl durationSeconds width height byteSize }
          cost { totalUsd items { kind } } } }`,
      { id: jobId },
    );
    const view = result.body.data!.videoJob;
    assert.equal(view.progress, 1);
    assert.deepEqual(
      view.scenes.map((scene) => scene.sceneType),
      ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"],
    );
    for (const scene of view.scenes) {
      assert.equal(scene.status, "SUCCEEDED");
      assert.ok(assetIds.includes(scene.firstAsset.id) && assetIds.includes(scene.lastAsset.id));
      assert.ok(scene.reasoning.length > 10 && scene.confidence > 0);
    }
    assert.equal(view.cost.totalUsd, 0);
    assert.equal(view.cost.items.length, 9);

    // Download through the signed URL (no headers), then check the file.
    const file = path.join(dir, "video.mp4");
    const response = await app.app.inject({
      method: "GET",
      url: view.video.url.replace(/^https?:\/\/[^/]+/, ""),
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers["accept-ranges"], "bytes");
    await pipeline(
      (async function* () {
        yield response.rawPayload;
      })(),
      createWriteStream(file),
    );
    assert.equal(response.rawPayload.length, view.video.byteSize);

    const { ffmpeg, ffprobe } = app.services.ffmpeg;
    const info = await probeMedia(ffprobe, file, { timeoutMs: 30_000 });
    const video = info.streams.find((stream) => stream.type === "video")!;
    const audio = info.streams.find((stream) => stream.type === "audio")!;
    assert.equal(video.codec, "h264");
    assert.equal(video.profile, "High");
    assert.equal(video.pixFmt, "yuv420p");
    assert.equal(video.width, 1920);
    assert.equal(video.height, 1080);
    assert.ok(Math.abs((video.fps ?? 0) - 30) < 0.01, `fps ${video.fps}`);
    assert.ok(Math.abs((video.frames ?? 0) - 930) <= 1, `frames ${video.frames}`);
    assert.equal(audio.codec, "aac");
    assert.equal(audio.sampleRate, 48_000);
    assert.equal(audio.channels, 2);
    assert.ok(Math.abs((info.durationSeconds ?? 0) - 31) <= 0.1, `duration ${info.durationSeconds}`);
    assert.ok(Math.abs(view.video.durationSeconds - 31) <= 0.1);

    const boxes = await topLevelBoxes(file);
    assert.ok(boxes.indexOf("moov") < boxes.indexOf("mdat"), `faststart: ${boxes.join(",")}`);

    const loudness = await measureLoudness(ffmpeg, file);
    t.diagnostic(`loudness ${JSON.stringify(loudness)}`);
    assert.ok(Math.abs(loudness.integratedLufs + 16) <= 1, `integrated ${loudness.integratedLufs} LUFS`);
    assert.ok(loudness.truePeakDbtp <= -0.9, `true peak ${loudness.truePeakDbtp} dBTP`);

    const { black, frozen } = await blackAndFrozen(ffmpeg, file);
    assert.deepEqual(
      black.filter((stretch) => stretch.start > 0.6 && stretch.end < 29.5),
      [],
      "no black frames outside the fades",
    );
    assert.deepEqual(frozen, [], "no frozen stretch over 1 s");

    // No audio gap at any scene boundary (4, 8, … 24 s): no silence around them.
    const quiet = await silences(ffmpeg, file);
    for (let boundary = 4; boundary < 28; boundary += 4) {
      assert.equal(
        quiet.some((stretch) => stretch.start <= boundary + 0.1 && stretch.end >= boundary - 0.1),
        false,
        `silence at ${boundary} s: ${JSON.stringify(quiet)}`,
      );
    }
    const scenes = await app.services.dataSource.getRepository(SceneEntity).find({ where: { jobId } });
    assert.equal(new Set(scenes.map((scene) => scene.clipMediaId)).size, 7, "one clip per scene");
  });

  it("returns the same job for the same idempotency key and input, CONFLICT for another input", async () => {
    const again = await app.graphql<{ createVideoJob: { id: string } }>(
      key,
      `mutation($input: CreateVideoJobInput!) { createVideoJob(input: $input, idempotencyKey: "first") { id } }`,
      { input: { campaignId } },
    );
    assert.equal(again.body.data?.createVideoJob.id, jobId);
    const conflict = await app.graphql(
      key,
      `mutation($input: CreateVideoJobInput!) { createVideoJob(input: $input, idempotencyKey: "first") { id } }`,
      { input: { campaignId, sceneCount: 3 } },
    );
    assert.equal(conflict.body.errors?.[0]?.extensions?.code, "CONFLICT");
  });

  it("re-renders one scene with another pair and re-assembles", async () => {
    const before = await app.services.pipeline.requireJob(tenantId, jobId);
    const scenes = await app.services.dataSource
      .getRepository(SceneEntity)
      .find({ where: { jobId }, order: { index: "ASC" } });
    // A photo added after the job: the re-roll may use any READY photo of the campaign.
    const added = await app.services.ingest.ingestNew(
      tenantId,
      campaignId,
      "living-04.jpg",
      await readFile(fixturePhoto("living-04.jpg")),
    );
    const unused = added.id;
    const retried = await app.graphql<{ retryScene: { status: string } }>(
      key,
      `mutation($id: ID!, $a: ID!) { retryScene(jobId: $id, index: 1, input: { firstAssetId: $a, cameraMove: PAN_LEFT }) { status } }`,
      { id: jobId, a: unused },
    );
    assert.equal(retried.body.data?.retryScene.status, "RENDERING", JSON.stringify(retried.body));
    const job = await waitForJob(app.services, jobId, 120_000);
    assert.equal(job.status, "SUCCEEDED", job.error ?? "");
    assert.notEqual(job.videoMediaId, before.videoMediaId, "a new video");
    assert.equal(
      await app.services.media.byId(tenantId, before.videoMediaId!),
      null,
      "the old video is released",
    );
    const scene = await app.services.dataSource
      .getRepository(SceneEntity)
      .findOneByOrFail({ jobId, index: 1 });
    assert.equal(scene.firstAssetId, unused);
    assert.equal(scene.cameraMove, "PAN_LEFT");
    assert.notEqual(scene.clipMediaId, scenes[1]!.clipMediaId);
  });

  it("cancels a job while a scene renders: the render stops within a second, nothing more is stored", async (t) => {
    const created = await app.services.pipeline.create(tenantId, { campaignId, sceneCount: 3 });
    // Renders work in this process's work directory (under the data dir), not the OS temp dir.
    const workDir = await currentWorkDir();
    const sceneDirs = () =>
      readdirSync(workDir).filter((name) => name.startsWith(`propvid-scene-${created.id.slice(0, 8)}`));
    // A scene is under way: its render has reported progress, and its encoder is running.
    await until(
      async () =>
        (
          await app.services.dataSource.query(
            `SELECT 1 FROM job_event WHERE job_id = $1 AND type = 'SCENE_UPDATED'
                AND payload->'scene'->>'status' = 'RUNNING' AND (payload->'scene'->>'progress')::real > 0`,
            [created.id],
          )
        ).length > 0,
      120_000,
      "a scene's progress event",
    );
    const running: { index: number }[] = await app.services.dataSource.query(
      "SELECT index FROM scene WHERE job_id = $1 AND status = 'RUNNING' AND progress > 0",
      [created.id],
    );
    assert.ok(running.length > 0, "a scene is RUNNING with progress");
    const dirs = sceneDirs().map((name) => path.join(workDir, name));
    const encoders = encodersWritingTo(dirs);
    assert.ok(dirs.length > 0, "its render's working directory exists");
    assert.ok(encoders.length > 0, "its encoder runs");

    const asked = Date.now();
    const cancelled = await app.graphql<{ cancelVideoJob: { status: string } }>(
      key,
      `mutation($id: ID!) { cancelVideoJob(id: $id) { status } }`,
      { id: created.id },
    );
    assert.equal(cancelled.body.data?.cancelVideoJob.status, "CANCELLED");
    // The render stops: its encoder is killed and its working directory removed. (Cheap checks of
    // just those, so that watching does not slow down what it watches.)
    const stopped = () =>
      dirs.every((dir) => !existsSync(dir)) &&
      encoders.every((pid) => [undefined, "Z"].includes(readProcStat(`/proc/${pid}/stat`)?.state));
    await until(stopped, 5_000, "the render to stop", 50);
    const stoppedAt = Date.now();
    // From the moment the job was cancelled (the cancel transaction's time; same clock).
    const [{ at }] = await app.services.dataSource.query(
      "SELECT cancel_requested_at AS at FROM video_job WHERE id = $1",
      [created.id],
    );
    const stoppedMs = stoppedAt - (at as Date).getTime();
    t.diagnostic(
      `render stopped ${stoppedMs} ms after the job was cancelled (${stoppedAt - asked} ms after the mutation was sent)`,
    );
    assert.ok(stoppedMs <= 1_000, `the render stopped ${stoppedMs} ms after the cancel`);

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.deepEqual(sceneDirs(), [], "no scene left a working directory");
    const job = await app.services.pipeline.requireJob(tenantId, created.id);
    assert.equal(job.status, "CANCELLED");
    assert.equal(job.videoMediaId, null);
    const stored: unknown[] = await app.services.dataSource.query(
      "SELECT 1 FROM scene WHERE job_id = $1 AND (clip_media_id IS NOT NULL OR status <> 'CANCELLED')",
      [created.id],
    );
    assert.equal(stored.length, 0, "every scene CANCELLED, no clip stored");
    const [last] = await app.services.dataSource.query(
      "SELECT type FROM job_event WHERE job_id = $1 ORDER BY sequence DESC LIMIT 1",
      [created.id],
    );
    assert.equal(last.type, "CANCELLED", "nothing happened after the cancel");
  });

  it("keeps other tenants out of jobs", async () => {
    const other = await app.newTenant("intruder");
    const foreign = await app.graphql(other.key, `query($id: ID!) { videoJob(id: $id) { id } }`, {
      id: jobId,
    });
    assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const cancel = await app.graphql(other.key, `mutation($id: ID!) { cancelVideoJob(id: $id) { id } }`, {
      id: jobId,
    });
    assert.equal(cancel.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });

  it("estimates the cost before creating a job and refuses unknown providers", async () => {
    const estimate = await app.graphql<{
      estimateVideoCost: { totalUsd: number; items: { kind: string; units: number }[] };
    }>(
      key,
      `query($input: CreateVideoJobInput!) { estimateVideoCost(input: $input) { totalUsd items { kind units } } }`,
      { input: { campaignId, sceneCount: 5 } },
    );
    assert.equal(estimate.body.data?.estimateVideoCost.totalUsd, 0);
    assert.equal(
      estimate.body.data?.estimateVideoCost.items.filter((item) => item.kind === "VIDEO").length,
      5,
    );
    const unknown = await app.graphql(
      key,
      `mutation($input: CreateVideoJobInput!) { createVideoJob(input: $input) { id } }`,
      { input: { campaignId, videoProvider: "nope" } },
    );
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });
});
