/**
 * The embedded music provider end to end: the score is synthesised in a media worker thread and
 * streamed into the WAV file; the file matches the in-thread render byte for byte, FFmpeg decodes
 * it at bed-music loudness, the main thread stays free, and cancellation leaves nothing behind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type MusicMood, SCENE_TYPES } from "../../src/domain/vocabulary.js";
import { isAppError } from "../../src/errors.js";
import { LocalMusicProvider } from "../../src/providers/local/local-music.provider.js";
import { scoreWav } from "../../src/providers/local/score-renderer.js";
import { type MusicSegment } from "../../src/providers/types.js";
import { createMediaWorkerPool } from "../../src/workers/media-tasks.js";
import { watchEventLoop } from "../helpers/event-loop.js";

const SR = 48000;
const run = promisify(execFile);
const ffmpegPath: string = createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg").path;

const scenes = (count: number, seconds: number): MusicSegment[] =>
  Array.from({ length: count }, (_, i) => ({ sceneType: SCENE_TYPES[i % SCENE_TYPES.length], seconds }));

/** ebur128 over the file with the bundled ffmpeg: integrated loudness and momentary loudness per second. */
async function loudness(file: string): Promise<{ integrated: number; momentary: number[] }> {
  const { stderr } = await run(
    ffmpegPath,
    [
      "-hide_banner",
      "-nostats",
      "-protocol_whitelist",
      "file,pipe",
      "-i",
      file,
      "-af",
      "ebur128",
      "-f",
      "null",
      "-",
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
  const integrated = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const momentary: number[] = [];
  for (const line of stderr.split("\n")) {
    const t = /\bt:\s*([\d.]+)/.exec(line);
    const m = /\bM:\s*(-?[\d.]+)/.exec(line);
    if (t && m && Math.round(Number(t[1]) * 10) % 10 === 0) momentary.push(Number(m[1]));
  }
  return { integrated, momentary };
}

describe("LocalMusicProvider", () => {
  const workers = createMediaWorkerPool({ size: 2 });
  const provider = new LocalMusicProvider({ workers });
  let dir = "";
  const cases: { mood: MusicMood; segments: MusicSegment[] }[] = [
    { mood: "LUXURY", segments: scenes(7, 4) },
    { mood: "MODERN", segments: scenes(5, 3.5) },
    { mood: "WARM", segments: scenes(3, 4) },
  ];
  const rendered = new Map<MusicMood, { file: string; bytes: Buffer; ms: number }>();

  const request = (mood: MusicMood, segments: MusicSegment[], outFile: string) => ({
    mood,
    segments,
    sampleRate: SR,
    outFile,
    workDir: dir,
  });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "propvid-local-music-"));
    for (const c of cases) {
      const file = path.join(dir, `${c.mood}.wav`);
      const started = performance.now();
      const result = await provider.compose(request(c.mood, c.segments, file));
      const ms = performance.now() - started;
      assert.equal(result.outFile, file);
      assert.equal(result.costUsd, 0);
      rendered.set(c.mood, { file, bytes: await readFile(file), ms });
    }
  });

  after(async () => {
    await workers.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes exactly the bytes the score renderer makes on this thread", (t) => {
    for (const c of cases) {
      const here = scoreWav({
        mood: c.mood,
        segments: c.segments,
        sampleRate: SR,
        sampleFormat: "pcm24",
        blockFrames: 1024,
      });
      const expected = Buffer.concat(Array.from(here, (chunk) => chunk.bytes));
      const { bytes, ms } = rendered.get(c.mood)!;
      assert.ok(bytes.equals(expected), c.mood);
      t.diagnostic(
        `${c.mood}: ${((expected.length - 44) / 6 / SR).toFixed(1)} s rendered in ${ms.toFixed(0)} ms`,
      );
    }
  });

  it("decodes with ffmpeg at a bed-music loudness that rises gently", async (t) => {
    for (const c of cases) {
      const { integrated, momentary } = await loudness(rendered.get(c.mood)!.file);
      t.diagnostic(`${c.mood}: integrated ${integrated} LUFS`);
      assert.ok(integrated > -20 && integrated < -12, `${c.mood}: ${integrated} LUFS`);
      const seconds = c.segments.reduce((sum, s) => sum + s.seconds, 0);
      assert.ok(momentary.length >= Math.floor(seconds) - 1, "ffmpeg decoded the whole file");
      // Between the first second and the ring-out no adjacent seconds differ by more than 6 LU.
      const body = momentary.slice(1, Math.floor(seconds) - 3);
      for (let i = 1; i < body.length; i++) {
        assert.ok(Math.abs(body[i] - body[i - 1]) <= 6, `${c.mood}: jump at ${i + 2} s`);
      }
      const half = Math.floor(body.length / 2);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(mean(body.slice(half)) > mean(body.slice(0, half)), `${c.mood} does not build`);
    }
  });

  it("reports progress up to 1 while the main thread's event loop stays free", async (t) => {
    const progress: number[] = [];
    const watched = await watchEventLoop(() =>
      provider.compose({
        ...request("UPBEAT", scenes(7, 4), path.join(dir, "progress.wav")),
        onProgress: (f) => progress.push(f),
      }),
    );
    assert.ok(progress.length > 5);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i] > progress[i - 1]);
    assert.equal(progress[progress.length - 1], 1);
    const { delay, utilization } = watched;
    t.diagnostic(
      `event loop during a 28 s score: lateness p99 ${delay.p99.toFixed(1)} ms, max ${delay.max.toFixed(1)} ms, ` +
        `busy ${(utilization * 100).toFixed(0)} %`,
    );
    // Synthesising on this thread kept it busy nearly all the time; now it only moves bytes.
    assert.ok(utilization < 0.5, `main thread busy ${(utilization * 100).toFixed(0)} % of the render`);
  });

  it("cancels quickly with CANCELLED and leaves no file behind", async (t) => {
    const controller = new AbortController();
    const outFile = path.join(dir, "cancelled.wav");
    let abortedAt = 0;
    const promise = provider.compose({
      ...request("UPBEAT", scenes(7, 4), outFile),
      signal: controller.signal,
      onProgress: (f) => {
        if (f > 0.1 && !abortedAt) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(promise, (error) => isAppError(error) && error.code === "CANCELLED");
    const took = performance.now() - abortedAt;
    t.diagnostic(`rejected ${took.toFixed(1)} ms after abort()`);
    assert.ok(took < 500, "took too long to notice the abort");
    assert.equal(existsSync(outFile), false);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith(".part")),
      [],
    );
  });

  it("rejects an already-aborted signal before doing any work", async () => {
    const outFile = path.join(dir, "never.wav");
    await assert.rejects(
      provider.compose({ ...request("CALM", scenes(2, 4), outFile), signal: AbortSignal.abort() }),
      (error) => isAppError(error) && error.code === "CANCELLED",
    );
    assert.equal(existsSync(outFile), false);
  });

  it("reports an unwritable destination as PROVIDER_FAILED", async () => {
    const outFile = path.join(dir, "missing-directory", "score.wav");
    await assert.rejects(
      provider.compose(request("CALM", scenes(2, 4), outFile)),
      (error) => isAppError(error) && error.code === "PROVIDER_FAILED",
    );
  });

  it("rejects requests it cannot render as BAD_USER_INPUT", async () => {
    const outFile = path.join(dir, "bad.wav");
    const bad = [
      request("CALM", [], outFile),
      request("CALM", [{ sceneType: "LIVING", seconds: -1 }], outFile),
      request("CALM", [{ sceneType: "LIVING", seconds: Number.NaN }], outFile),
      { ...request("CALM", scenes(2, 4), outFile), sampleRate: 0 },
      request("CALM", [{ sceneType: "LIVING", seconds: 10_000 }], outFile),
    ];
    for (const r of bad) {
      await assert.rejects(
        provider.compose(r),
        (error) => isAppError(error) && error.code === "BAD_USER_INPUT",
      );
    }
  });

  it("leaves no task running in the pool: cancelled and failed renders stop their worker task", async () => {
    const deadline = performance.now() + 1_000;
    while (workers.stats().tasks > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(workers.stats().tasks, 0);
    assert.equal(workers.stats().crashes, 0);
  });
});
