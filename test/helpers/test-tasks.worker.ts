/**
 * A worker entry for the pool's own tests: tasks that behave in the ways the pool must handle
 * (transfer, streaming with credits, cooperative and stuck cancellation, crashes, errors). It
 * is served by the real task host, so the tests exercise both sides of the protocol.
 */
import { threadId } from "node:worker_threads";
import { AppError } from "../../src/errors.js";
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
  /** The local video provider's frame task, crashing after `crashAfter` frames. */
  "video-frames": TaskSpec<{ output: { width: number; height: number } }, never, Uint8Array>;
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
  setImmediate(() => {
    throw new Error("simulated crash in the worker thread");
  });
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
  async "video-frames"({ output }, task) {
    return await crashAfter(task, 3, output.width * output.height * 1.5);
  },
  fail({ code }) {
    if (code) throw new AppError(code, "the photo is not one");
    throw new TypeError("something broke");
  },
});
