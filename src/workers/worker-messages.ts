/**
 * What the worker pool (main thread) and a task host (worker thread) say to each other. Every
 * message names its task by id, so one thread can run several tasks interleaved (a render
 * waiting for the encoder leaves room for an image analysis).
 *
 * Streams are pulled: the host emits a chunk only for a credit the pool sent, so a fast
 * producer never runs ahead of a slow consumer (FFmpeg) by more than the credits in flight.
 */
import { AppError, ERROR_CODES, type ErrorCode, isAppError } from "../errors.js";

/** One kind of task: what goes in, what comes back at the end, and what it streams meanwhile. */
export interface TaskSpec<Input, Result, Chunk extends Uint8Array = never> {
  input: Input;
  result: Result;
  chunk: Chunk;
}

/** Task kinds by name, as both sides of a pool agree on them. */
export type TaskMap = Record<string, TaskSpec<unknown, unknown, Uint8Array>>;

export type ToWorker =
  | { type: "start"; id: number; kind: string; input: unknown }
  /** The consumer wants one more chunk. */
  | { type: "credit"; id: number }
  | { type: "cancel"; id: number };

export type FromWorker =
  | { type: "chunk"; id: number; data: Uint8Array }
  | { type: "progress"; id: number; fraction: number }
  /**
   * The task started (running: true) or saw the end of (false) a child process that leads its own
   * process group: should the thread die first, the pool kills the group.
   */
  | { type: "child"; id: number; pid: number; running: boolean }
  | { type: "done"; id: number; result: unknown }
  | { type: "failed"; id: number; error: SerializedError };

/** An error as it crosses threads (an AppError keeps its code, details and transience). */
export interface SerializedError {
  message: string;
  code?: ErrorCode;
  transient?: boolean;
  details?: Record<string, unknown>;
  stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (isAppError(error)) {
    return { message: error.message, code: error.code, transient: error.transient, details: error.details };
  }
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: String(error) };
}

/** Back to an AppError; anything that was not one becomes PROVIDER_FAILED, naming the task. */
export function deserializeError(error: SerializedError, kind: string): AppError {
  if (error.code && (ERROR_CODES as readonly string[]).includes(error.code)) {
    return new AppError(error.code, error.message, { transient: error.transient, details: error.details });
  }
  const cause = new Error(error.message);
  if (error.stack) cause.stack = error.stack;
  return new AppError("PROVIDER_FAILED", `${kind} failed in a worker thread: ${error.message}`, { cause });
}
