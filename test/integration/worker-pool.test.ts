/**
 * The worker pool against real threads: sizes, transfer, pulled streams, cancellation (cooperative
 * and of a stuck task), crashes (a clear error, a fresh thread next time), close. The tasks are
 * test-tasks.worker.ts, served by the real task host; the media tasks are checked against the
 * same code run on this thread.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import sharp from "sharp";
import { AppError } from "../../src/errors.js";
import { runFfmpeg, withTempDir } from "../../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { pixelMetrics } from "../../src/media/image-metrics.js";
import type { VideoClipRequest } from "../../src/providers/local/clip-encoder.js";
import { FrameSampler } from "../../src/providers/local/frame-sampler.js";
import { decodeClipPhotos } from "../../src/providers/local/photo-decoder.js";
import { createMediaWorkerPool } from "../../src/workers/media-tasks.js";
import { WorkerPool } from "../../src/workers/worker-pool.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { childProcessesOf, signalPending } from "../helpers/procfs.js";
import type { TestTasks } from "../helpers/test-tasks.worker.js";

const SCRIPT = new URL("../helpers/test-tasks.worker.js", import.meta.url);
const pools: WorkerPool<TestTasks>[] = [];

function pool(size: number, cancelGraceMs?: number, niceness?: number): WorkerPool<TestTasks> {
  const created = new WorkerPool<TestTasks>({
    size,
    script: SCRIPT,
    name: "test-pool",
    cancelGraceMs,
    niceness,
  });
  pools.push(created);
  return created;
}

after(async () => {
  await Promise.all(pools.map((created) => created.close()));
});

const isCode = (code: string, message?: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === code && (!message || message.test(error.message));

/** `sleep` processes started by this test process (directly or from its threads), by pid: state. */
function sleepers(): Map<number, string> {
  const found = new Map<number, string>();
  for (const child of childProcessesOf(process.pid))
    if (child.name === "sleep") found.set(child.pid, child.state);
  return found;
}

/**
 * Live `sleep` processes of ours, by pid. A zombie is dead: one whose thread crashed or was
 * terminated is never reaped (libuv waits only for its own loop's children).
 */
function liveSleepers(): number[] {
  return [...sleepers()].flatMap(([pid, state]) => (state === "Z" ? [] : [pid]));
}

/** Waits until no live `sleep` of ours is left. */
async function noLiveSleepers(withinMs: number): Promise<void> {
  const started = performance.now();
  while (liveSleepers().length > 0) {
    assert.ok(performance.now() - started < withinMs, `a child process outlived its task: ${liveSleepers()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the task's child is running. */
async function aSleeperRuns(): Promise<number> {
  while (liveSleepers().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  return liveSleepers()[0]!;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return chunks;
}

describe("WorkerPool", () => {
  it("starts threads only when needed, never more than its size, and spreads tasks over them", async () => {
    const two = pool(2);
    assert.equal(two.stats().threads, 0);
    const ran = await Promise.all(Array.from({ length: 6 }, () => two.run("whoami", { ms: 50 })));
    assert.equal(new Set(ran.map((r) => r.threadId)).size, 2);
    assert.deepEqual(two.stats(), { size: 2, threads: 2, tasks: 0, crashes: 0 });

    const one = pool(1);
    const alone = await Promise.all(Array.from({ length: 3 }, () => one.run("whoami", { ms: 20 })));
    assert.equal(new Set(alone.map((r) => r.threadId)).size, 1);
    assert.equal(one.stats().threads, 1);
    assert.throws(
      () => new WorkerPool<TestTasks>({ size: 0, script: SCRIPT, name: "x" }),
      /positive integer/,
    );
  });

  it("interleaves tasks on a thread: a short task does not wait for a long one", async () => {
    const one = pool(1);
    const long = one.run("whoami", { ms: 1_000 }).then(() => "long");
    const short = one.run("sum", { data: new Uint8Array([1, 2, 3]) }).then(() => "short");
    assert.equal(await Promise.race([long, short]), "short");
    assert.equal(one.stats().threads, 1);
    await long;
  });

  it("moves transferred buffers instead of copying them, both ways", async () => {
    const two = pool(2);
    const data = new Uint8Array(1 << 20).fill(3);
    const result = await two.run("sum", { data }, { transfer: [data.buffer] });
    assert.deepEqual(result, { sum: 3 << 20, length: 1 << 20 });
    assert.equal(data.byteLength, 0, "the caller's buffer is detached: it moved");

    const chunks: Buffer[] = [];
    const stream = two.stream("chunks", { count: 5, bytes: 4096 });
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.deepEqual(
      chunks.map((chunk) => [chunk.length, chunk[0], chunk[4095]]),
      [0, 1, 2, 3, 4].map((i) => [4096, i, i]),
    );
    // each chunk arrived as its own buffer (the task fails if its copy was not detached on sending)
    for (const chunk of chunks) assert.equal(chunk.buffer.byteLength, 4096);
    // empty chunks carry nothing but must not stall the stream
    assert.deepEqual(await readAll(two.stream("chunks", { count: 3, bytes: 0 })), []);
  });

  it("streams with backpressure: the worker is at most a chunk or two ahead of a slow reader", async () => {
    const two = pool(2);
    let emitted = 0;
    let consumed = 0;
    let ahead = 0;
    const stream = two.stream(
      "chunks",
      { count: 30, bytes: 1 << 20 },
      { onProgress: (count) => (emitted = count) },
    );
    for await (const _chunk of stream) {
      consumed += 1;
      ahead = Math.max(ahead, emitted - consumed);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(consumed, 30);
    assert.ok(ahead <= 2, `the worker ran ${ahead} chunks ahead of the reader`);
  });

  it("cancels cooperatively: the caller gets CANCELLED at once and the thread lives on", async () => {
    const one = pool(1);
    const { threadId } = await one.run("whoami", { ms: 0 });
    const controller = new AbortController();
    const waiting = one.run("waitForCancel", {}, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await assert.rejects(waiting, isCode("CANCELLED"));
    await assert.rejects(one.run("whoami", { ms: 0 }, { signal: AbortSignal.abort() }), isCode("CANCELLED"));
    assert.equal((await one.run("whoami", { ms: 0 })).threadId, threadId, "same thread");
    assert.equal(one.stats().tasks, 0);
  });

  it("terminates a thread whose cancelled task does not stop, within the grace period", async () => {
    const one = pool(1, 200);
    const { threadId } = await one.run("whoami", { ms: 0 });
    const controller = new AbortController();
    const spinning = one.run("spin", {}, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abortedAt = performance.now();
    controller.abort();
    await assert.rejects(spinning, isCode("CANCELLED"));
    while (one.stats().threads > 0) {
      assert.ok(performance.now() - abortedAt < 1_000, "the stuck thread was not stopped within a second");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const next = await one.run("whoami", { ms: 0 });
    assert.notEqual(next.threadId, threadId, "a fresh thread took its place");
    assert.equal(one.stats().crashes, 0, "terminating on purpose is not a crash");
  });

  it("cancels a stream when it is destroyed", async () => {
    const one = pool(1);
    const stream = one.stream("chunks", { count: 1000, bytes: 1024 });
    let seen = 0;
    for await (const _chunk of stream) {
      seen += 1;
      if (seen === 3) break; // for-await's return destroys the stream
    }
    while (one.stats().tasks > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(one.stats().threads, 1, "stopped cooperatively, the thread lives on");
  });

  it("fails the tasks of a crashed thread with a clear error and replaces the thread", async () => {
    const one = pool(1);
    const { threadId } = await one.run("whoami", { ms: 0 });
    const crashing = one.stream("crash", { afterChunks: 2 });
    const bystander = one.run("whoami", { ms: 5_000 });
    await assert.rejects(
      readAll(crashing),
      isCode("PROVIDER_FAILED", /crash: the worker thread crashed \(simulated crash in the worker thread\)/),
    );
    await assert.rejects(bystander, (error: unknown) => {
      assert.ok(error instanceof AppError && error.code === "PROVIDER_FAILED" && error.transient);
      assert.match(error.message, /whoami: the worker thread crashed/);
      return true;
    });
    assert.deepEqual(one.stats(), { size: 1, threads: 0, tasks: 0, crashes: 1 });
    const next = await one.run("whoami", { ms: 0 });
    assert.notEqual(next.threadId, threadId);
    assert.equal(one.stats().threads, 1);
  });

  it("keeps an AppError's code across threads and names the task for anything else", async () => {
    const one = pool(1);
    await assert.rejects(one.run("fail", { code: "MEDIA_REJECTED" }), isCode("MEDIA_REJECTED", /not one/));
    await assert.rejects(
      one.run("fail", {}),
      isCode("PROVIDER_FAILED", /fail failed in a worker thread: something broke/),
    );
    await assert.rejects(
      one.run("nonsense" as "fail", {}),
      isCode("PROVIDER_FAILED", /unknown task kind "nonsense"/),
    );
  });

  it("closes: running tasks fail, later ones are refused, no thread is left", async () => {
    const two = pool(2);
    const running = assert.rejects(
      two.run("whoami", { ms: 5_000 }),
      isCode("PROVIDER_FAILED", /pool closed/),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await two.close();
    await running;
    await assert.rejects(two.run("whoami", { ms: 0 }), isCode("PROVIDER_FAILED", /closed/));
    const refused = two.stream("chunks", { count: 1, bytes: 1 });
    const [error] = (await once(refused, "error")) as [unknown];
    assert.ok(isCode("PROVIDER_FAILED", /closed/)(error));
    assert.equal(two.stats().threads, 0);
  });
});

describe("WorkerPool child processes and priority", () => {
  it("kills the process group a task owns when its thread crashes", async () => {
    const one = pool(1);
    await assert.rejects(one.run("child", { after: "crash" }), isCode("PROVIDER_FAILED", /crashed/));
    await noLiveSleepers(1_000);
  });

  it("kills it when a stuck thread is terminated after a cancel", async () => {
    const one = pool(1, 200);
    const controller = new AbortController();
    const stuck = one.run("child", { after: "spin" }, { signal: controller.signal });
    await aSleeperRuns();
    controller.abort();
    await assert.rejects(stuck, isCode("CANCELLED"));
    await noLiveSleepers(1_500);
  });

  it("kills it from the main thread on cancel, without waiting for a busy thread to hear of it", async () => {
    const one = pool(1, 5_000);
    const controller = new AbortController();
    const stuck = one.run("child", { after: "spin" }, { signal: controller.signal });
    await aSleeperRuns();
    controller.abort();
    await assert.rejects(stuck, isCode("CANCELLED"));
    // long before the 5 s grace after which the stuck thread is terminated
    await noLiveSleepers(1_000);
  });

  it("kills a child started after its task was cancelled (the thread had not heard yet)", async () => {
    const one = pool(1, 5_000);
    const controller = new AbortController();
    await one.run("whoami", { ms: 0 }); // the thread is up: it takes the start, then spins
    const before = sleepers().size; // zombies of earlier tests included
    const stuck = one.run("child", { after: "spin" }, { signal: controller.signal });
    controller.abort(); // before the thread has even seen the task
    await assert.rejects(stuck, isCode("CANCELLED"));
    // the spinning thread never reaps its child: live or killed, it stays listed
    const started = performance.now();
    while (sleepers().size === before) {
      assert.ok(performance.now() - started < 3_000, "the task never started its child");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await noLiveSleepers(1_000); // long before the thread is terminated, 5 s after the cancel
  });

  it("kills it when the task ends without waiting for it", async () => {
    const one = pool(1);
    const { pid } = await one.run("child", { after: "return" });
    assert.ok(pid > 0);
    await noLiveSleepers(1_000);
  });

  it("with waitForStop, rejects only after the task's own abort has run (its child is dead by then)", async () => {
    const one = pool(1);
    const controller = new AbortController();
    const waiting = one.run("child", { after: "wait" }, { signal: controller.signal, waitForStop: true });
    const pid = await aSleeperRuns();
    controller.abort();
    await assert.rejects(waiting, isCode("CANCELLED"));
    // SIGKILL was sent before the answer: the child has it pending (on a busy machine it may not
    // have run since: state R), is a zombie, or is gone; never still running untouched. The
    // group's pending set keeps SIGKILL until the child is reaped, so it is read first and the
    // state after: a child reaped in between is gone by then.
    const pending = signalPending(pid, 9);
    const state = sleepers().get(pid);
    assert.ok(
      pending || state === undefined || state === "Z" || state === "X",
      `the child is still ${state}, with no SIGKILL pending`,
    );
    await noLiveSleepers(1_000);
  });

  it("runs its threads and the child processes tasks register at the niceness asked for, the main thread untouched", async () => {
    const niced = pool(1, undefined, 7);
    // (a thread's own nice value is Linux's; elsewhere only the children are lowered)
    const thread = process.platform === "linux" ? 7 : 0;
    assert.deepEqual(await niced.run("niceness", {}), { thread, child: 7 });
    assert.deepEqual(await pool(1).run("niceness", {}), { thread: 0, child: 0 });
    assert.equal(os.getPriority(process.pid), 0);
  });
});

describe("the media pool", () => {
  const media = createMediaWorkerPool({ size: 2 });
  const bins = resolveFfmpegBinaries({ searchPath: process.env.PATH });
  after(() => media.close());

  const clipRequest = (dir: string, overrides: Partial<VideoClipRequest> = {}): VideoClipRequest => ({
    firstImagePath: fixturePhoto("living-01.jpg"),
    lastImagePath: fixturePhoto("kitchen-01.jpg"),
    cameraMove: "ORBIT_RIGHT",
    output: { width: 320, height: 180 },
    frameCount: 24,
    fps: 30,
    ffmpeg: bins.ffmpeg,
    outFile: path.join(dir, "clip.mp4"),
    timeoutMs: 60_000,
    ...overrides,
  });

  it("encodes in a worker thread the frames sampled on this one", async () => {
    await withTempDir("propvid-pool-clip", async (dir) => {
      const request = clipRequest(dir);
      const progress: number[] = [];
      const result = await media.run("video-clip", request, { onProgress: (f) => progress.push(f) });
      assert.deepEqual(result, { frames: 24 });
      assert.deepEqual(progress, [0.25, 0.5, 0.75, 1]);
      const raw = path.join(dir, "clip.yuv");
      await runFfmpeg(
        bins.ffmpeg,
        ["-v", "error", "-protocol_whitelist", "file", "-i", `file:${request.outFile}`].concat([
          "-f",
          "rawvideo",
          "-pix_fmt",
          "yuv420p",
          `file:${raw}`,
        ]),
        { timeoutMs: 20_000 },
      );
      const decoded = await readFile(raw);
      const here = new FrameSampler(await decodeClipPhotos(request));
      assert.equal(decoded.length, 24 * here.frameBytes);
      for (let index = 0; index < 24; index += 1) {
        const expected = here.frame(index);
        const frame = decoded.subarray(index * here.frameBytes, (index + 1) * here.frameBytes);
        let error = 0;
        for (let i = 0; i < expected.length; i += 1) error += Math.abs(expected[i]! - frame[i]!);
        // x264 at CRF 20 stays within a level or two of what it was given (≈2.1 at worst on these
        // tiny frames mid-dissolve); a wrong, shifted or missing frame is off by tens
        assert.ok(error / expected.length < 3, `frame ${index}: mean error ${error / expected.length}`);
      }
    });
  });

  it("reports a photo it cannot decode as MEDIA_REJECTED, before starting an encoder", async () => {
    await withTempDir("propvid-pool-clip", async (dir) => {
      const request = clipRequest(dir, {
        firstImagePath: new URL(import.meta.url).pathname, // this test file, not a photo
        lastImagePath: null,
      });
      await assert.rejects(media.run("video-clip", request), isCode("MEDIA_REJECTED"));
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("computes the same image metrics in a worker thread as on this one", async () => {
    const { data, info } = await sharp(fixturePhoto("bath-01.jpg"))
      .resize(800, 800, { fit: "inside" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const pixels = { data, width: info.width, height: info.height, channels: info.channels };
    assert.deepEqual(await media.run("image-metrics", pixels), pixelMetrics(pixels));
  });
});
