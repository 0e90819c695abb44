import { EventEmitter } from "node:events";
import { AppError } from "../../errors.js";
import type { NotificationListener } from "../../events/notification-listener.js";
import { type Prediction, type ReplicateClient, sleep, TERMINAL } from "./replicate-client.js";

/** The channel a verified webhook for a finished prediction is announced on (payload: the prediction id). */
export const PREDICTION_WAKEUPS_CHANNEL = "propvid_prediction_wakeups";

/** What a prediction id may look like (Replicate's are short base-32 strings): nothing else is announced. */
export const PREDICTION_ID = /^[\w-]{1,100}$/;

/**
 * Wakes the adapters waiting on a prediction, in whichever process they wait. The webhook route
 * (an API process) records a verified delivery and NOTIFYs its prediction id; every worker
 * process hears it on its one LISTEN connection and wakes its waiters on that id. A wake-up says
 * only "look now": the waiter reads the state itself. After every (re)connection all waiters are
 * woken, so a webhook announced while nobody listened is not waited out.
 */
export class PredictionWakeups {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  /**
   * Subscribes at once, so the channel is LISTENed from the connection's start (a first waiter
   * cannot miss a webhook while its LISTEN is on the way). Without a listener, only `wake()` in
   * this process wakes anyone (tests of an adapter alone).
   */
  constructor(private readonly listener?: Pick<NotificationListener, "on" | "onConnected" | "start">) {
    listener?.on(PREDICTION_WAKEUPS_CHANNEL, (id) => this.wake(id));
    listener?.onConnected(() => {
      for (const id of this.emitter.eventNames()) this.emitter.emit(id);
    });
  }

  /** Wakes this process's waiters on `id`. */
  wake(id: string): void {
    this.emitter.emit(id);
  }

  /**
   * Starts listening for wake-ups on `id`. Call it before looking at the prediction: a wake-up
   * that arrives while the caller looks is kept, not missed.
   */
  watch(id: string): PredictionWatch {
    let woken = false;
    let wakeWaiter: (() => void) | undefined;
    const onWake = () => {
      woken = true;
      wakeWaiter?.();
    };
    this.emitter.on(id, onWake);
    // Normally connected when the process starts; else the first waiter connects it (and the
    // connection, once up, wakes every waiter to look again).
    void this.listener?.start();
    return {
      looking: () => {
        woken = false;
      },
      wait: (ms, signal) =>
        new Promise<boolean>((resolve) => {
          const done = (result: boolean) => {
            clearTimeout(timer);
            wakeWaiter = undefined;
            signal?.removeEventListener("abort", onAbort);
            woken = false;
            resolve(result);
          };
          const onAbort = () => done(false);
          const timer = setTimeout(() => done(false), ms);
          if (woken || signal?.aborted) return done(woken);
          wakeWaiter = () => done(true);
          signal?.addEventListener("abort", onAbort, { once: true });
        }),
      close: () => void this.emitter.off(id, onWake),
    };
  }

  /** How many waiters there are now (for tests and metrics). */
  get waiting(): number {
    return this.emitter.eventNames().reduce((sum, name) => sum + this.emitter.listenerCount(name), 0);
  }
}

/** Wake-ups for one prediction, from `watch()` until `close()`. */
export interface PredictionWatch {
  /** Says the caller is about to look: a wake-up from before this is answered by that look. */
  looking(): void;
  /** Resolves true when woken since the last look (at once if that already happened), false after `ms` or on abort. */
  wait(ms: number, signal?: AbortSignal): Promise<boolean>;
  close(): void;
}

export interface WaitOptions {
  /** The fallback: how long to wait for a wake-up before asking anyway. */
  pollIntervalMs: number;
  /** Give up (and cancel the prediction) after this long. */
  deadlineMs: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Webhook wake-ups; without them the waiter only polls. */
  wakeups?: PredictionWakeups;
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
  const started = Date.now();
  const expected = 60_000;
  // Listening starts before the first look, so a webhook that lands while we look still wakes us.
  const watch = options.wakeups?.watch(id);
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      watch?.looking();
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
      if (watch) await watch.wait(options.pollIntervalMs, options.signal);
      else await sleep(options.pollIntervalMs, options.signal);
    }
  } catch (error) {
    if (options.signal?.aborted) {
      await client.cancel(id).catch(() => undefined);
      throw new AppError("CANCELLED", "Cancelled", { cause: error });
    }
    throw error;
  } finally {
    watch?.close();
  }
}

export { sleep };
