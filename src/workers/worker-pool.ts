/**
 * A pool of worker threads for CPU-heavy media work (frame sampling, the music synth, image
 * pixel math), so the main thread keeps serving GraphQL, Range requests and progress events.
 *
 * - At most `size` threads (RENDER_CONCURRENCY), each started when first needed and created
 *   once per process; `close()` terminates them (the app's stop does it).
 * - A task goes to an idle thread, else a new one while there is room, else the least busy
 *   one: tasks on one thread interleave between their awaits (a render waits for the encoder
 *   between frames, which leaves room for an image analysis or the score).
 * - Buffers cross threads by transfer (moved, not copied): frames come back that way.
 * - Streams are pulled: `stream()` returns a Readable that asks the worker for one chunk per
 *   read (plus an optional prefetch), so a render is at most a frame or two ahead of its encoder.
 * - Cancelling (abort signal, or destroying the stream) tells the worker to stop at its next
 *   checkpoint; a thread that has not stopped the task within `cancelGraceMs` is terminated.
 * - A thread that crashes fails its tasks with a clear PROVIDER_FAILED (transient: the job
 *   queue retries) and is replaced by a fresh one on the next task.
 * - Child processes a task starts (the local renderer's encoder) are registered with the pool:
 *   when their task is cancelled or ends without them, or their thread is terminated or crashes,
 *   the pool kills their process groups, so no FFmpeg outlives the work it was for.
 * - The threads and the child processes tasks register run at a lower priority (`niceness`): the
 *   main thread's API requests win the CPU over frame sampling and the encoders (task-host.ts).
 * - Idle threads are unref'd: a forgotten pool never keeps a process alive.
 */
import { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { deserializeError, type FromWorker, type TaskMap, type ToWorker } from "./worker-messages.js";

export interface WorkerPoolOptions {
  /** Threads at most. */
  size: number;
  /** The worker entry module (it calls serveTasks). */
  script: URL;
  /** Thread names: `${name}-1`, `${name}-2`, … (seen in logs and inspectors). */
  name: string;
  logger?: Logger;
  /** How long a cancelled task may take to stop before its thread is terminated; default 1 s. */
  cancelGraceMs?: number;
  /** Niceness (0…19) of the child processes tasks register (ownChildProcess). Default 0. */
  niceness?: number;
}

export interface RunOptions {
  /** Moved to the worker instead of copied (the caller must not touch them afterwards). */
  transfer?: ArrayBuffer[];
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /**
   * On abort, reject only once the thread confirms the task stopped (its abort handlers have run
   * and the child processes it owns have exited), or once the thread is terminated after the
   * grace period (the pool then kills their groups).
   * For a task that writes files the caller removes after a failure. Default: reject at once.
   */
  waitForStop?: boolean;
}

export interface StreamOptions {
  transfer?: ArrayBuffer[];
  /** Bytes the Readable buffers before it stops asking for more (default 1: one chunk). */
  highWaterMark?: number;
  /**
   * Chunks the worker may make before the first read (default 0). One keeps it working while
   * the consumer handles the previous chunk, instead of both waiting on each hand-over.
   */
  prefetch?: number;
  onProgress?: (fraction: number) => void;
  /** Called for every chunk as it arrives (e.g. to count frames). */
  onChunk?: (bytes: number) => void;
}

export interface PoolStats {
  size: number;
  /** Threads running now. */
  threads: number;
  /** Tasks started and not yet finished (cancelled ones until their thread confirms). */
  tasks: number;
  /** Threads lost to crashes since the pool started. */
  crashes: number;
}

interface TaskEvents {
  chunk(data: Uint8Array): void;
  progress(fraction: number): void;
  done(result: unknown): void;
  fail(error: AppError): void;
}

interface Thread {
  worker: Worker;
  index: number;
  tasks: Map<number, Task>;
  /** Set when we terminate it on purpose (its exit is then no crash). */
  stopping: boolean;
}

interface Task {
  id: number;
  kind: string;
  thread: Thread;
  events: TaskEvents;
  /** The caller has been answered (result, error or cancellation). */
  settled: boolean;
  /** Set once cancelled: what the caller is (or will be) told. */
  cancelled?: AppError;
  waitForStop: boolean;
  /** Process groups the task started and has not seen end. */
  children: Set<number>;
  cancelTimer?: NodeJS.Timeout;
}

const DEFAULT_CANCEL_GRACE_MS = 1_000;

export class WorkerPool<T extends TaskMap> {
  private readonly threads: Thread[] = [];
  private nextTaskId = 1;
  private nextThreadIndex = 1;
  private crashes = 0;
  private closed = false;
  private readonly cancelGraceMs: number;

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new Error(`worker pool size must be a positive integer: ${options.size}`);
    }
    this.cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
  }

  get size(): number {
    return this.options.size;
  }

  stats(): PoolStats {
    return {
      size: this.options.size,
      threads: this.threads.length,
      tasks: this.threads.reduce((sum, thread) => sum + thread.tasks.size, 0),
      crashes: this.crashes,
    };
  }

  /** Runs one task to its result. */
  run<K extends keyof T & string>(
    kind: K,
    input: T[K]["input"],
    options: RunOptions = {},
  ): Promise<T[K]["result"]> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancelledError(kind));
    return new Promise((resolve, reject) => {
      const onAbort = () => this.cancel(task, cancelledError(kind));
      const settle = () => signal?.removeEventListener("abort", onAbort);
      const task = this.start(kind, input, options, {
        chunk: () => {},
        progress: (fraction) => options.onProgress?.(fraction),
        done: (result) => {
          settle();
          resolve(result as T[K]["result"]);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Runs a streaming task: its chunks, in order, as a byte Readable that pulls one chunk per
   * read. Destroying the Readable cancels the task; a task failure destroys it with the error.
   */
  stream<K extends keyof T & string>(kind: K, input: T[K]["input"], options: StreamOptions = {}): Readable {
    let task: Task | undefined;
    const readable = new Readable({
      highWaterMark: options.highWaterMark ?? 1,
      read: () => {
        if (task && !task.settled) this.post(task.thread, { type: "credit", id: task.id });
      },
      destroy: (error, callback) => {
        if (task) this.cancel(task, cancelledError(kind));
        callback(error);
      },
    });
    try {
      // Started at once, not on the first read: the worker prepares while the consumer sets up.
      task = this.start(kind, input, options, {
        chunk: (data) => {
          options.onChunk?.(data.byteLength);
          // An empty push would not ask for more: ask the worker directly instead.
          if (data.byteLength === 0) this.post(task!.thread, { type: "credit", id: task!.id });
          else readable.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        },
        progress: (fraction) => options.onProgress?.(fraction),
        done: () => readable.push(null),
        fail: (error) => readable.destroy(error),
      });
      for (let i = 0; i < (options.prefetch ?? 0); i += 1)
        this.post(task.thread, { type: "credit", id: task.id });
    } catch (error) {
      process.nextTick(() => readable.destroy(error as Error));
    }
    return readable;
  }

  /** Terminates every thread; running tasks fail, later ones are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.threads].map((thread) => this.terminate(thread, "the worker pool closed", { quiet: true })),
    );
  }

  private start(
    kind: string,
    input: unknown,
    options: { transfer?: ArrayBuffer[]; waitForStop?: boolean },
    events: TaskEvents,
  ): Task {
    if (this.closed) {
      throw new AppError("PROVIDER_FAILED", "the media worker pool is closed", { transient: true });
    }
    const thread = this.pick();
    const task: Task = {
      id: this.nextTaskId++,
      kind,
      thread,
      events,
      settled: false,
      waitForStop: options.waitForStop ?? false,
      children: new Set(),
    };
    thread.tasks.set(task.id, task);
    if (thread.tasks.size === 1) thread.worker.ref();
    try {
      this.post(thread, { type: "start", id: task.id, kind, input }, options.transfer);
    } catch (error) {
      // e.g. an input that cannot be cloned: nothing reached the thread
      this.finish(task);
      throw error;
    }
    return task;
  }

  /** An idle thread, else a new one while there is room, else the least busy. */
  private pick(): Thread {
    let best: Thread | undefined;
    for (const thread of this.threads) {
      if (!best || thread.tasks.size < best.tasks.size) best = thread;
    }
    if ((!best || best.tasks.size > 0) && this.threads.length < this.options.size) return this.spawn();
    return best!;
  }

  private spawn(): Thread {
    const index = this.nextThreadIndex++;
    const worker = new Worker(this.options.script, {
      name: `${this.options.name}-${index}`,
      workerData: { niceness: this.options.niceness ?? 0 },
    });
    worker.unref();
    const thread: Thread = { worker, index, tasks: new Map(), stopping: false };
    worker.on("message", (message: FromWorker) => this.receive(thread, message));
    worker.on("error", (error) => this.lose(thread, error));
    worker.on("messageerror", (error) => this.lose(thread, error));
    worker.on("exit", (code) => this.lose(thread, new Error(`the thread exited with code ${code}`)));
    this.threads.push(thread);
    return thread;
  }

  private post(thread: Thread, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!thread.stopping) thread.worker.postMessage(message, transfer);
  }

  private receive(thread: Thread, message: FromWorker): void {
    const task = thread.tasks.get(message.id);
    if (!task) {
      // a process started for a task that is over (the thread answered a cancel first): unowned
      if (message.type === "child" && message.running) killProcessGroup(message.pid);
      return;
    }
    switch (message.type) {
      case "chunk":
        if (!task.settled) task.events.chunk(message.data);
        return;
      case "progress":
        if (!task.settled) task.events.progress(message.fraction);
        return;
      case "child":
        if (!message.running) task.children.delete(message.pid);
        else {
          task.children.add(message.pid);
          // started after the task was cancelled (the thread had not heard yet): it dies at once
          if (task.cancelled) killProcessGroup(message.pid);
        }
        return;
      case "done":
        this.finish(task);
        this.settle(task, () => task.events.done(message.result));
        return;
      case "failed":
        this.finish(task);
        this.settle(task, () => task.events.fail(deserializeError(message.error, task.kind)));
        return;
    }
  }

  /** Answers the caller once: a cancelled task's answer is its cancellation, whatever the thread said. */
  private settle(task: Task, answer: () => void): void {
    if (task.settled) return;
    task.settled = true;
    if (task.cancelled) task.events.fail(task.cancelled);
    else answer();
  }

  /**
   * The thread is done with the task (its own answer, or the thread is gone). A child process the
   * task still owns has nobody left to wait for it: its group is killed.
   */
  private finish(task: Task): void {
    clearTimeout(task.cancelTimer);
    for (const pid of task.children) killProcessGroup(pid);
    task.children.clear();
    task.thread.tasks.delete(task.id);
    if (task.thread.tasks.size === 0) task.thread.worker.unref();
  }

  private cancel(task: Task, reason: AppError): void {
    if (task.settled || task.cancelled) return;
    task.cancelled = reason;
    if (!task.waitForStop) this.settle(task, () => {});
    const { thread } = task;
    // Its child processes die now, from here: the thread (niced, on a busy machine) may take a
    // while to get the CPU and hear the cancel. It still answers once it has seen them exit.
    for (const pid of task.children) killProcessGroup(pid);
    this.post(thread, { type: "cancel", id: task.id });
    task.cancelTimer = setTimeout(() => {
      if (thread.tasks.has(task.id)) {
        void this.terminate(thread, `a cancelled ${task.kind} did not stop within ${this.cancelGraceMs} ms`);
      }
    }, this.cancelGraceMs);
    task.cancelTimer.unref();
  }

  /** Stops a thread on purpose; its other tasks fail (transient: a retry runs on a fresh thread). */
  private terminate(thread: Thread, why: string, options: { quiet?: boolean } = {}): Promise<number> {
    this.forget(thread);
    thread.stopping = true;
    this.failAll(thread, why, "the worker thread was stopped");
    if (!options.quiet) this.options.logger?.warn({ thread: thread.index, why }, "worker thread terminated");
    return thread.worker.terminate();
  }

  private lose(thread: Thread, cause: Error): void {
    if (thread.stopping || !this.forget(thread)) return;
    this.crashes += 1;
    this.options.logger?.error({ thread: thread.index, err: cause }, "worker thread crashed");
    this.failAll(thread, cause.message, "the worker thread crashed");
  }

  private failAll(thread: Thread, why: string, what: string): void {
    for (const task of [...thread.tasks.values()]) {
      this.finish(task);
      this.settle(task, () =>
        task.events.fail(
          new AppError("PROVIDER_FAILED", `${task.kind}: ${what} (${why})`, { transient: true }),
        ),
      );
    }
  }

  /** Removes the thread from the pool; false when it was already gone. */
  private forget(thread: Thread): boolean {
    const at = this.threads.indexOf(thread);
    if (at < 0) return false;
    this.threads.splice(at, 1);
    return true;
  }
}

/** SIGKILL to a process group; one that is gone already is no error. */
function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // exited (and reaped) meanwhile
  }
}

function cancelledError(kind: string): AppError {
  return new AppError("CANCELLED", `${kind} cancelled`);
}
