import { EventEmitter } from "node:events";
import { AppError } from "../../errors.js";
import { type Prediction, type ReplicateClient, sleep, TERMINAL } from "./replicate-client.js";

/**
 * Wakes adapters waiting on a prediction when its webhook arrives in this process. Another
 * process's webhook is not seen here; the adapter's polling still finds the result then.
 */
export class PredictionEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  notify(prediction: Prediction): void {
    this.emitter.emit(prediction.id, prediction);
  }

  /** Resolves on the next event for `id`, or after `ms` (then with undefined). */
  next(id: string, ms: number, signal?: AbortSignal): Promise<Prediction | undefined> {
    return new Promise((resolve) => {
      const done = (value: Prediction | undefined) => {
        clearTimeout(timer);
        this.emitter.off(id, done);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), ms);
      this.emitter.on(id, done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** One per process: the webhook route and the adapters share it. */
export const predictionEvents = new PredictionEvents();

export interface WaitOptions {
  pollIntervalMs: number;
  /** Give up (and cancel the prediction) after this long. */
  deadlineMs: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  events?: PredictionEvents;
}

/**
 * Waits for a prediction to end: woken by its webhook, polled as a fallback. The state always
 * comes from GET /v1/predictions/{id}, so a webhook that is late, repeated or out of order cannot
 * make us act on a stale state. On abort or deadline the prediction is cancelled.
 */
export async function waitForPrediction(
  client: ReplicateClient,
  id: string,
  options: WaitOptions,
): Promise<Prediction> {
  const events = options.events ?? predictionEvents;
  const started = Date.now();
  const expected = 60_000;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const prediction = await client.get(id, options.signal);
      if (TERMINAL.has(prediction.status)) return prediction;
      const elapsed = Date.now() - started;
      options.onProgress?.(Math.min(0.9, elapsed / (elapsed + expected)));
      if (elapsed > options.deadlineMs) {
        await client.cancel(id).catch(() => undefined);
        throw new AppError("PROVIDER_FAILED", "Replicate: the prediction took too long and was cancelled", {
          transient: true,
        });
      }
      await events.next(id, options.pollIntervalMs, options.signal);
    }
  } catch (error) {
    if (options.signal?.aborted) {
      await client.cancel(id).catch(() => undefined);
      throw new AppError("CANCELLED", "Cancelled", { cause: error });
    }
    throw error;
  }
}

export { sleep };
