/**
 * The local provider against a real FFmpeg: exact frame counts and house encoding, every output
 * size, sub-pixel smooth motion, cancellation and timeouts that leave nothing behind.
 * Uses the ffmpeg that resolveFfmpegBinaries picks (set PROPVID_TEST_FFMPEG/PROPVID_TEST_FFPROBE
 * to run against another build, e.g. the bundled 4.1).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import type { CameraMove } from "../../src/domain/vocabulary.js";
import { AppError } from "../../src/errors.js";
import { type MediaInfo, probeMedia, runFfmpeg, withTempDir } from "../../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { LocalVideoProvider } from "../../src/providers/local/local-video.provider.js";
import type { VideoRenderRequest } from "../../src/providers/types.js";
import { createMediaWorkerPool, type MediaWorkerPool } from "../../src/workers/media-tasks.js";
import { WorkerPool } from "../../src/workers/worker-pool.js";
import { watchEventLoop } from "../helpers/event-loop.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { childProcessesOf } from "../helpers/procfs.js";
import type { TestTasks } from "../helpers/test-tasks.worker.js";

const bins = resolveFfmpegBinaries({
  ffmpegPath: process.env.PROPVID_TEST_FFMPEG,
  ffprobePath: process.env.PROPVID_TEST_FFPROBE,
  searchPath: process.env.PATH,
});
const workers = createMediaWorkerPool({ size: 2 });
const provider = new LocalVideoProvider({ ffmpeg: bins.ffmpeg, workers });

let workDir = "";
let release: () => void = () => {};
const held = new Promise<void>((resolve) => {
  release = resolve;
});
let tempDone: Promise<unknown> = Promise.resolve();

before(async () => {
  await new Promise<void>((ready) => {
    tempDone = withTempDir("propvid-local-video-test", async (dir) => {
      workDir = dir;
      ready();
      await held;
    });
  });
});
after(async () => {
  release();
  await tempDone;
  await workers.close();
  assert.ok(!existsSync(workDir), "the test's temp dir was removed");
});

function request(overrides: Partial<VideoRenderRequest> & { name: string }): VideoRenderRequest {
  const { name, ...rest } = overrides;
  return {
    firstImagePath: fixturePhoto("living-01.jpg"),
    lastImagePath: fixturePhoto("kitchen-01.jpg"),
    cameraMove: "PUSH_IN",
    prompt: "",
    seconds: 2,
    width: 1920,
    height: 1080,
    fps: 30,
    outFile: path.join(workDir, `${name}.mp4`),
    workDir,
    ...rest,
  };
}

const probe = (file: string): Promise<MediaInfo> => probeMedia(bins.ffprobe, file, { timeoutMs: 20_000 });

function assertHouseClip(info: MediaInfo, width: number, height: number, frames: number): void {
  assert.match(info.formatName, /mp4/);
  assert.equal(info.streams.length, 1, "video only");
  const video = info.streams[0]!;
  assert.equal(video.type, "video");
  assert.equal(video.codec, "h264");
  assert.equal(video.profile, "High");
  assert.equal(video.pixFmt, "yuv420p");
  assert.equal(video.width, width);
  assert.equal(video.height, height);
  assert.equal(video.frames, frames);
  assert.equal(video.fps, 30);
  assert.equal(video.timeBase, "1/15360");
  assert.ok(Math.abs((info.durationSeconds ?? 0) - frames / 30) < 0.001, `duration ${info.durationSeconds}`);
}

/**
 * Live child processes of this test process (the encoder would be one; it is started from a
 * worker thread, which is still this process). A zombie is dead: one whose worker thread was
 * terminated is never reaped (libuv waits only for its own loop's children), see the report.
 */
function childProcesses(): string[] {
  return childProcessesOf(process.pid)
    .filter((child) => child.state !== "Z")
    .map((child) => child.name);
}

/** A clip's decoded frames, back to back, as raw `gray` or `rgb24` pixels. */
async function rawFrames(file: string, pixelFormat: "gray" | "rgb24"): Promise<Buffer> {
  const raw = `${file}.${pixelFormat}`;
  await runFfmpeg(
    bins.ffmpeg,
    ["-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file", "-i", `file:${file}`].concat([
      "-f",
      "rawvideo",
      "-pix_fmt",
      pixelFormat,
      "-y",
      `file:${raw}`,
    ]),
    { timeoutMs: 20_000 },
  );
  try {
    return await readFile(raw);
  } finally {
    await rm(raw, { force: true });
  }
}

/** A synthetic photo (SVG body on a `size`), written as PNG into the work dir. */
async function svgPhoto(name: string, size: { width: number; height: number }, body: string) {
  const file = path.join(workDir, `${name}.png`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">${body}</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(file);
  return file;
}

const isCode = (code: string, message?: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === code && (!message || message.test(error.message));

describe("LocalVideoProvider", () => {
  it("renders 4 s of 1920×1080: H.264 High, yuv420p, exactly 120 frames at 30 fps", async (t) => {
    const progress: number[] = [];
    const started = performance.now();
    const result = await provider.render(
      request({ name: "landscape", seconds: 4, onProgress: (fraction) => progress.push(fraction) }),
    );
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`4 s 1920x1080 clip rendered in ${seconds.toFixed(2)} s`);
    assertHouseClip(await probe(result.outFile), 1920, 1080, 120);
    assert.equal(result.costUsd, 0);
    assert.equal(progress.at(-1), 1);
    assert.ok(progress.length > 5);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      "progress only grows",
    );
  });

  it("renders two 4 s 1080p clips concurrently", async (t) => {
    const started = performance.now();
    const times = await Promise.all(
      (["TRUCK_LEFT", "ORBIT_RIGHT"] as const).map(async (cameraMove, index) => {
        const t0 = performance.now();
        const result = await provider.render(
          request({
            name: `concurrent-${index}`,
            seconds: 4,
            cameraMove,
            firstImagePath: fixturePhoto(index === 0 ? "dining-01.jpg" : "bedroom-01.jpg"),
            lastImagePath: fixturePhoto(index === 0 ? "dining-02.jpg" : "bedroom-02.jpg"),
          }),
        );
        assertHouseClip(await probe(result.outFile), 1920, 1080, 120);
        return (performance.now() - t0) / 1000;
      }),
    );
    t.diagnostic(
      `2 concurrent 4 s 1080p clips: ${times.map((s) => s.toFixed(2)).join(" s, ")} s ` +
        `(wall ${((performance.now() - started) / 1000).toFixed(2)} s)`,
    );
  });

  it("keeps the main thread free while it renders (frames are sampled in a worker)", async (t) => {
    // The same stretch of time without a render, as a baseline for this (shared, loaded) machine.
    const idle = await watchEventLoop(() => new Promise((resolve) => setTimeout(resolve, 1_000)));
    const busy = await watchEventLoop(() =>
      provider.render(
        request({
          name: "responsive",
          seconds: 4,
          cameraMove: "ORBIT_LEFT",
          firstImagePath: fixturePhoto("living-03.jpg"),
          lastImagePath: fixturePhoto("living-01.jpg"),
        }),
      ),
    );
    const line = (name: string, r: typeof idle) =>
      `${name}: lateness p50 ${r.delay.p50.toFixed(1)} / p99 ${r.delay.p99.toFixed(1)} / max ${r.delay.max.toFixed(1)} ms, ` +
      `busy ${(r.utilization * 100).toFixed(0)} %`;
    t.diagnostic(line("idle", idle));
    t.diagnostic(line("rendering 4 s of 1080p", busy));
    assertHouseClip(await probe(busy.result.outFile), 1920, 1080, 120);
    // Sampling on this thread kept it ~90 % busy with 15–20 ms blocks (plus ~150 ms per photo
    // conversion); now it only moves finished frames into FFmpeg's pipe. Utilisation is what this
    // asserts: the lateness figures above also carry the CPU contention of the encoder and the
    // worker on this 2-core machine (and of everything else running on it), so they are reported,
    // and the benchmark (bench/api-under-render.bench.ts) holds them to the goal on an idle machine.
    assert.ok(
      busy.utilization < 0.5,
      `main thread busy ${(busy.utilization * 100).toFixed(0)} % of the render`,
    );
  });

  const sizes: Array<{
    name: string;
    width: number;
    height: number;
    move: CameraMove;
    first: string;
    last: string;
  }> = [
    {
      name: "portrait",
      width: 1080,
      height: 1920,
      move: "CRANE_UP",
      first: "bath-01.jpg",
      last: "bedroom-03.jpg",
    },
    {
      name: "square",
      width: 1080,
      height: 1080,
      move: "ORBIT_LEFT",
      first: "exterior-05.jpg",
      last: "exterior-01.jpg",
    },
  ];
  for (const size of sizes) {
    it(`renders 2 s at ${size.width}x${size.height} (${size.move}, ${size.first} → ${size.last})`, async () => {
      const result = await provider.render(
        request({
          name: size.name,
          width: size.width,
          height: size.height,
          cameraMove: size.move,
          firstImagePath: fixturePhoto(size.first),
          lastImagePath: fixturePhoto(size.last),
        }),
      );
      assertHouseClip(await probe(result.outFile), size.width, size.height, 60);
    });
  }

  it("moves with sub-pixel smoothness: a tracked dot glides steadily, no stair-steps", async () => {
    // a synthetic photo: mid-grey with one soft white dot, panned slowly (≈1 px a frame)
    const width = 1600;
    const height = 900;
    const dot = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
        `<rect width="100%" height="100%" fill="#404040"/>` +
        `<circle cx="${width / 2}" cy="${height / 2}" r="14" fill="#ffffff"/></svg>`,
    );
    const photo = path.join(workDir, "dot.png");
    await sharp(dot).png().toFile(photo);
    const outWidth = 640;
    const outHeight = 360;
    const result = await provider.render(
      request({
        name: "smooth",
        cameraMove: "PAN_RIGHT",
        firstImagePath: photo,
        lastImagePath: photo,
        width: outWidth,
        height: outHeight,
      }),
    );
    const pixels = await rawFrames(result.outFile, "gray");
    const frameSize = outWidth * outHeight;
    assert.equal(pixels.length, frameSize * 60);
    const centroids: number[] = [];
    for (let f = 0; f < 60; f += 1) {
      let sum = 0;
      let mass = 0;
      for (let p = 0; p < frameSize; p += 1) {
        const excess = pixels[f * frameSize + p]! - 120; // above the grey background
        if (excess > 0) {
          sum += (p % outWidth) * excess;
          mass += excess;
        }
      }
      assert.ok(mass > 0, `dot lost in frame ${f}`);
      centroids.push(sum / mass);
    }
    const deltas = centroids.slice(1).map((x, i) => x - centroids[i]!);
    const travel = centroids[0]! - centroids.at(-1)!;
    assert.ok(travel > 20, `the dot travels left (${travel.toFixed(2)} px)`);
    for (const [i, delta] of deltas.entries())
      assert.ok(delta < 0.02, `frame ${i + 1} moves backwards: ${delta}`);
    // steady: speed changes by well under a pixel between frames (an integer crop jumps 0↔1↔2 px)
    const jerks = deltas.slice(1).map((d, i) => Math.abs(d - deltas[i]!));
    const worst = Math.max(...jerks);
    assert.ok(worst < 0.25, `speed jumps by ${worst.toFixed(3)} px between frames`);
  });

  it("shows both photos for at most 0.6 s: a dissolve at the middle, not a long double exposure", async (t) => {
    const size = { width: 800, height: 450 };
    const dark = await svgPhoto("flat-dark", size, `<rect width="100%" height="100%" fill="#282828"/>`);
    const light = await svgPhoto("flat-light", size, `<rect width="100%" height="100%" fill="#d0d0d0"/>`);
    const result = await provider.render(
      request({
        name: "dissolve",
        seconds: 4,
        width: 320,
        height: 180,
        firstImagePath: dark,
        lastImagePath: light,
      }),
    );
    const pixels = await rawFrames(result.outFile, "gray");
    const frameSize = 320 * 180;
    assert.equal(pixels.length, frameSize * 120);
    const means = Array.from({ length: 120 }, (_, f) => {
      let sum = 0;
      for (let p = f * frameSize; p < (f + 1) * frameSize; p += 1) sum += pixels[p]!;
      return sum / frameSize;
    });
    const [start, end] = [means[0]!, means[119]!];
    assert.ok(end - start > 100, `the photos differ (${start.toFixed(1)} → ${end.toFixed(1)})`);
    // a frame shows both photos when it is neither the first photo's level nor the last's
    const mixed = means.flatMap((mean, f) => (mean > start + 1.5 && mean < end - 1.5 ? [f] : []));
    t.diagnostic(
      `blended frames ${mixed[0]}…${mixed.at(-1)}: ${(mixed.length / 30).toFixed(2)} s of overlap`,
    );
    assert.ok(
      mixed.length / 30 <= 0.6,
      `${mixed.length} frames (${(mixed.length / 30).toFixed(2)} s) show both`,
    );
    assert.ok(mixed.length / 30 >= 0.3, "a dissolve, not a hard cut");
    assert.equal(mixed.at(-1)! - mixed[0]! + 1, mixed.length, "one contiguous dissolve");
    assert.ok(Math.abs((mixed[0]! + mixed.at(-1)!) / 2 / 30 - 2) < 0.1, "centred on the middle of the clip");
  });

  it("frames a portrait clip on the photo's salient region, not a blind centre crop", async () => {
    // flat grey, with a detailed, saturated patch well right of centre: a 9:16 centre crop of this
    // 16:9 photo (x 547…1053) would not show any of it
    const cells = [];
    for (let y = 300; y < 600; y += 25)
      for (let x = 1150; x < 1450; x += 25)
        cells.push(
          `<rect x="${x}" y="${y}" width="25" height="25" fill="${(x + y) % 50 ? "#e02020" : "#20c040"}"/>`,
        );
    const photo = await svgPhoto(
      "salient",
      { width: 1600, height: 900 },
      `<rect width="100%" height="100%" fill="#808080"/>${cells.join("")}`,
    );
    const result = await provider.render(
      request({
        name: "salient-portrait",
        width: 360,
        height: 640,
        cameraMove: "PUSH_IN",
        firstImagePath: photo,
        lastImagePath: photo,
      }),
    );
    const pixels = await rawFrames(result.outFile, "rgb24");
    const frameBytes = 360 * 640 * 3;
    for (const f of [0, 59]) {
      let coloured = 0;
      for (let p = f * frameBytes; p < (f + 1) * frameBytes; p += 3)
        if (Math.abs(pixels[p]! - pixels[p + 1]!) > 80) coloured += 1;
      const share = coloured / (360 * 640);
      assert.ok(share > 0.15, `frame ${f}: the salient patch covers ${(share * 100).toFixed(1)} % of it`);
    }
  });

  it("cancels within a second: kills FFmpeg, stops the worker's task, rejects with CANCELLED, leaves no files", async (t) => {
    const controller = new AbortController();
    const outFile = path.join(workDir, "cancelled.mp4");
    const before = new Set(await readdir(workDir));
    let abortedAt = 0;
    const rendering = provider.render(
      request({
        name: "cancelled",
        seconds: 4,
        signal: controller.signal,
        onProgress: () => {
          if (abortedAt) return;
          assert.ok(childProcesses().includes("ffmpeg"), "ffmpeg is running mid-render");
          assert.equal(workers.stats().tasks, 1, "a frame task is running");
          abortedAt = performance.now();
          controller.abort();
        },
      }),
    );
    await assert.rejects(rendering, isCode("CANCELLED"));
    const took = performance.now() - abortedAt;
    t.diagnostic(`rejected ${took.toFixed(0)} ms after abort()`);
    assert.ok(abortedAt > 0);
    assert.ok(took < 1_000, `took ${took.toFixed(0)} ms to stop`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      childProcesses().filter((name) => name === "ffmpeg"),
      [],
    );
    // The worker stops at its next frame, or its thread is terminated after the 1 s grace.
    while (workers.stats().tasks > 0) {
      assert.ok(performance.now() - abortedAt < 1_500, "the worker's task is still running");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    t.diagnostic(`worker task gone ${(performance.now() - abortedAt).toFixed(0)} ms after abort()`);
    assert.ok(!existsSync(outFile));
    assert.deepEqual(new Set(await readdir(workDir)), before, "no partial or scratch files left");
  });

  it("fails with a clear error when its worker thread crashes, and the next render gets a fresh one", async () => {
    const crashing = new WorkerPool<TestTasks>({
      size: 1,
      name: "crashing",
      script: new URL("../helpers/test-tasks.worker.js", import.meta.url),
    });
    try {
      const doomed = new LocalVideoProvider({
        ffmpeg: bins.ffmpeg,
        workers: crashing as unknown as MediaWorkerPool,
      });
      const before = new Set(await readdir(workDir));
      await assert.rejects(
        doomed.render(request({ name: "crashed", seconds: 2 })),
        isCode("PROVIDER_FAILED", /video-clip: the worker thread crashed/),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        childProcesses().filter((name) => name === "ffmpeg"),
        [],
      );
      assert.deepEqual(new Set(await readdir(workDir)), before, "no partial clip left");
      assert.deepEqual(crashing.stats(), { size: 1, threads: 0, tasks: 0, crashes: 1 });
      assert.ok((await crashing.run("whoami", { ms: 0 })).threadId > 0, "a new thread serves the next task");
    } finally {
      await crashing.close();
    }
  });

  it("rejects at once when already cancelled", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      provider.render(request({ name: "pre", signal: controller.signal })),
      isCode("CANCELLED"),
    );
  });

  it("times out: kills FFmpeg, rejects with TIMEOUT, leaves no files", async () => {
    const hasty = new LocalVideoProvider({ ffmpeg: bins.ffmpeg, workers, timeoutMs: 1_200 });
    const before = new Set(await readdir(workDir));
    await assert.rejects(hasty.render(request({ name: "timeout", seconds: 4 })), isCode("TIMEOUT"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      childProcesses().filter((name) => name === "ffmpeg"),
      [],
    );
    assert.deepEqual(new Set(await readdir(workDir)), before);
  });

  it("rejects a file that is not a photo with MEDIA_REJECTED", async () => {
    const text = path.join(workDir, "playlist.jpg");
    await writeFile(text, "#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n");
    await assert.rejects(
      provider.render(request({ name: "bogus", firstImagePath: text, lastImagePath: text })),
      isCode("MEDIA_REJECTED"),
    );
  });
});
