/**
 * The worker-thread side of the pool: runs the tasks the pool starts, streams their chunks as
 * credits arrive, and stops a task the pool cancels. A worker entry module is one call:
 * `serveTasks({ kind: handler, … })`.
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { AppError } from "../errors.js";
import { lowerProcessPriority, lowerThreadPriority } from "../media/process-priority.js";
import { type FromWorker, serializeError, type TaskMap, type ToWorker } from "./worker-messages.js";

/** What a running task can do besides computing its result. */
export interface TaskContext<Chunk extends Uint8Array = Uint8Array> {
  /** Aborted when the pool cancels the task. */
  readonly signal: AbortSignal;
  /** Resolves once the consumer wants another chunk; rejects with CANCELLED once cancelled. */
  demand(): Promise<void>;
  /** Sends a chunk to the main thread; its memory moves there (transferred, not copied). */
  emit(chunk: Chunk): void;
  /** Reports progress (0..1) to whoever started the task. */
  progress(fraction: number): void;
  /**
   * Registers a child process this task started in its own process group (the FFmpeg runner
   * spawns detached) and lowers its priority to the pool's `niceness`: if the task is cancelled
   * or the thread is terminated or crashes while it runs, the pool kills the group. Call it right
   * after the spawn, and the returned function once the process has exited.
   */
  ownChildProcess(pid: number): () => void;
}

export type TaskHandlers<T extends TaskMap> = {
  [K in keyof T]: (
    input: T[K]["input"],
    task: TaskContext<T[K]["chunk"]>,
  ) => T[K]["result"] | Promise<T[K]["result"]>;
};

const cancelled = (): AppError => new AppError("CANCELLED", "task cancelled");

class HostedTask implements TaskContext {
  private readonly controller = new AbortController();
  private answered = false;
  private credits = 0;
  /** Child processes started and not yet seen exit; a cancel is answered once there are none. */
  private children = 0;
  private cancelling = false;
  private waiting: { resolve: () => void; reject: (error: AppError) => void } | null = null;

  constructor(
    private readonly id: number,
    private readonly port: MessagePort,
    /** Of the child processes the task registers. */
    private readonly childNiceness = 0,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  credit(): void {
    if (this.waiting) {
      this.waiting.resolve();
      this.waiting = null;
    } else {
      this.credits += 1;
    }
  }

  /**
   * Stops the task and answers the pool at once, even if the handler is still awaiting something
   * (a sharp decode): the pool then never has to terminate a thread that is merely busy
   * elsewhere. The handler ends at its next checkpoint; its late answer is dropped. A task that
   * owns a child process is answered once that process has exited (its abort handler killed it):
   * a killed FFmpeg takes a moment to die, and the caller removes the files it was writing.
   */
  cancel(): void {
    if (this.answered) return;
    this.controller.abort();
    this.waiting?.reject(cancelled());
    this.waiting = null;
    this.cancelling = true;
    if (this.children === 0) this.answerCancelled();
  }

  private answerCancelled(): void {
    this.answer({ type: "failed", id: this.id, error: serializeError(cancelled()) });
  }

  /** The one final message for this task (a result, an error or the cancellation). */
  answer(message: Extract<FromWorker, { type: "done" | "failed" }>): void {
    if (this.answered) return;
    this.answered = true;
    this.post(message);
  }

  demand(): Promise<void> {
    if (this.controller.signal.aborted) return Promise.reject(cancelled());
    if (this.credits > 0) {
      this.credits -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  emit(chunk: Uint8Array): void {
    // Only a view that owns its whole buffer can be moved; a view into a shared pool is copied out.
    const owned =
      chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
    this.post({ type: "chunk", id: this.id, data: owned }, [owned.buffer as ArrayBuffer]);
  }

  progress(fraction: number): void {
    this.post({ type: "progress", id: this.id, fraction });
  }

  ownChildProcess(pid: number): () => void {
    lowerProcessPriority(pid, this.childNiceness);
    this.post({ type: "child", id: this.id, pid, running: true });
    this.children += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.children -= 1;
      this.post({ type: "child", id: this.id, pid, running: false });
      if (this.cancelling && this.children === 0) this.answerCancelled();
    };
  }

  post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(message, transfer);
  }
}

/** Serves the pool's tasks on this worker thread until the pool terminates it. */
export function serveTasks<T extends TaskMap>(handlers: TaskHandlers<T>, port = parentPort): void {
  if (!port) throw new Error("serveTasks runs in a worker thread");
  const niceness = (workerData as { niceness?: number } | null)?.niceness ?? 0;
  lowerThreadPriority(niceness);
  const tasks = new Map<number, HostedTask>();
  const run = async (task: HostedTask, message: Extract<ToWorker, { type: "start" }>) => {
    const handler = handlers[message.kind] as
      | ((input: unknown, task: TaskContext) => unknown | Promise<unknown>)
      | undefined;
    try {
      if (!handler) throw new Error(`unknown task kind "${message.kind}"`);
      const result = await handler(message.input, task);
      task.answer({ type: "done", id: message.id, result });
    } catch (error) {
      task.answer({ type: "failed", id: message.id, error: serializeError(error) });
    } finally {
      tasks.delete(message.id);
    }
  };
  port.on("message", (message: ToWorker) => {
    switch (message.type) {
      case "start": {
        const task = new HostedTask(message.id, port, niceness);
        tasks.set(message.id, task);
        void run(task, message);
        break;
      }
      case "credit":
        tasks.get(message.id)?.credit();
        break;
      case "cancel":
        tasks.get(message.id)?.cancel();
        break;
    }
  });
}
