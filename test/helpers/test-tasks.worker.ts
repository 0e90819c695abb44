/**
 * A worker entry for the pool's own tests: tasks that behave in the ways the pool must handle
 * (transfer, streaming with credits, cooperative and stuck cancellation, crashes, errors). It
 * is served by the real task host, so the tests exercise both sides of the protocol.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { threadId } from "node:worker_threads";
import { AppError } from "../../src/errors.js";
import { encodeClip, type VideoClipRequest } from "../../src/providers/local/clip-encoder.js";
import { serveTasks } from "../../src/workers/task-host.js";
import type { TaskSpec } from "../../src/workers/worker-messages.js";

export type TestTasks = {
  /** Which thread ran it, after `ms` of waiting (so several tasks overlap). */
  whoami: TaskSpec<{ ms: number }, { threadId: number }>;
  /** The byte sum of `data`, which the caller may transfer. */
  sum: TaskSpec<{ data: Uint8Array }, { sum: number; length: number }>;
  /**
   * `count` chunks of `bytes` bytes, chunk i filled with i; progress = chunks emitted so far.
   * Fails if a chunk was copied rather than moved to the main thread.
   */
  chunks: TaskSpec<{ count: number; bytes: number }, { emitted: number }, Uint8Array>;
  /** Waits until cancelled (cooperative), then reports how it ended. */
  waitForCancel: TaskSpec<Record<string, never>, never>;
  /** Busy forever: never reaches a checkpoint, so only terminating the thread stops it. */
  spin: TaskSpec<Record<string, never>, never>;
  /** Kills its thread after `afterChunks` chunks (an uncaught error in the thread). */
  crash: TaskSpec<{ afterChunks: number }, never, Uint8Array>;
  /** Fails with an AppError (`code`) or, without one, a plain Error. */
  fail: TaskSpec<{ code?: "MEDIA_REJECTED" }, never>;
  /** The local video provider's real clip task, whose thread crashes once 12 frames are written. */
  "video-clip": TaskSpec<VideoClipRequest, never>;
  /**
   * Starts `sleep 60` in its own process group, registered with the pool, then (`after`): `crash` the
   * thread, `spin` (stuck), `return` without waiting for it, or `wait` for a cancel (whose abort
   * kills the group, the way the FFmpeg runner does).
   */
  child: TaskSpec<{ after: "crash" | "spin" | "return" | "wait" }, { pid: number }>;
  /** This thread's nice value, and that of a child process it registers. */
  niceness: TaskSpec<Record<string, never>, { thread: number; child: number }>;
};

const crashSoon = (): void => {
  setImmediate(() => {
    throw new Error("simulated crash in the worker thread");
  });
};

const crashAfter = async (
  task: { demand(): Promise<void>; emit(chunk: Uint8Array): void },
  chunks: number,
  bytes: number,
): Promise<never> => {
  for (let i = 0; i < chunks; i += 1) {
    await task.demand();
    task.emit(new Uint8Array(bytes).fill(i));
  }
  crashSoon();
  return await new Promise<never>(() => {});
};

serveTasks<TestTasks>({
  async whoami({ ms }) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { threadId };
  },
  sum({ data }) {
    let sum = 0;
    for (const byte of data) sum += byte;
    return { sum, length: data.length };
  },
  async chunks({ count, bytes }, task) {
    for (let i = 0; i < count; i += 1) {
      await task.demand();
      const chunk = new Uint8Array(bytes).fill(i % 256);
      task.emit(chunk);
      // a transferred buffer is detached here: the bytes moved, nothing was copied
      if (chunk.byteLength !== 0) throw new Error(`chunk ${i} was copied, not moved`);
      task.progress(i + 1);
    }
    return { emitted: count };
  },
  async waitForCancel(_input, task) {
    await new Promise((_resolve, reject) => {
      task.signal.addEventListener("abort", () => reject(new AppError("CANCELLED", "stopped cooperatively")));
    });
    throw new Error("unreachable");
  },
  spin() {
    for (;;) {
      // a tight loop with no await: messages (cancel included) are never read
    }
  },
  async crash({ afterChunks }, task) {
    return await crashAfter(task, afterChunks, 1024);
  },
  async "video-clip"(request, task) {
    let reports = 0;
    await encodeClip(request, {
      signal: task.signal,
      ownChildProcess: (pid) => task.ownChildProcess(pid),
      progress: () => {
        reports += 1;
        if (reports === 2) crashSoon();
      },
    });
    throw new Error("the clip was finished before the simulated crash");
  },
  async child({ after }, task) {
    const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    const pid = child.pid!;
    task.ownChildProcess(pid);
    if (after === "crash") {
      crashSoon();
      return await new Promise<never>(() => {});
    }
    if (after === "spin") {
      for (;;) {
        // stuck: only terminating the thread ends this
      }
    }
    if (after === "wait") {
      await new Promise<void>((resolve) => {
        task.signal.addEventListener("abort", () => {
          process.kill(-pid, "SIGKILL");
          resolve();
        });
      });
      throw new AppError("CANCELLED", "stopped, child killed");
    }
    return { pid };
  },
  niceness(_input, task) {
    const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    const pid = child.pid!;
    const release = task.ownChildProcess(pid);
    try {
      return { thread: os.getPriority(), child: os.getPriority(pid) };
    } finally {
      process.kill(-pid, "SIGKILL");
      release();
    }
  },
  fail({ code }) {
    if (code) throw new AppError(code, "the photo is not one");
    throw new TypeError("something broke");
  },
});
