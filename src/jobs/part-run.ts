import { AppError, type ErrorCode, isAppError } from "../errors.js";
import type { JobCancellations } from "../events/job-cancellations.js";
import type { PartFailure } from "../services/job-part.state-machine.js";

/** What the worker makes of a handler's error. */
export type FailureVerdict = "cancelled" | "final" | "retry";

/**
 * The one failure classifier of the worker. A cancelled run records nothing; an error that
 * cannot go better by trying again (bad input, a provider's 4xx), or the last attempt, is final;
 * anything else is retried by pg-boss. A timeout is worth another try even though it is not
 * "transient" to its caller. A run interrupted by its process's shutdown is handed back to
 * pg-boss too (failed, as the shutdown, only on its last attempt), whatever it threw on the way out.
 */
export function classifyFailure(
  error: unknown,
  run: { aborted: boolean; lastAttempt: boolean; interrupted?: boolean },
): FailureVerdict {
  // Stopped because this process is shutting down: nothing went wrong with the part itself, so
  // it is tried again — unless no attempt is left, when it must fail rather than hang.
  if (run.interrupted) return run.lastAttempt ? "final" : "retry";
  if (run.aborted || (isAppError(error) && error.code === "CANCELLED")) return "cancelled";
  if (run.lastAttempt || (isAppError(error) && !error.transient && error.code !== "TIMEOUT")) return "final";
  return "retry";
}

/** How often a running part checks its job and writes its progress. */
const CHECK_INTERVAL_MS = 500;
/** Progress is written in 1/20 steps (5 %): enough for a progress bar, few events. */
const PROGRESS_STEPS = 20;

/**
 * One run of a queued job as its handler sees it: which attempt it is, a signal that aborts
 * the work when its video job is cancelled (from any process), progress written at most every
 * tick, and the transition that records a failure — registered by the handler once it has
 * claimed its part, called by the worker.
 */
export class PartRun {
  private readonly controller = new AbortController();
  #interrupted = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private latest = 0;
  private written = 0;
  private failure:
    | { record: (failure: PartFailure) => Promise<unknown>; fallback: { code: ErrorCode; message: string } }
    | undefined;

  constructor(
    readonly retryCount: number,
    readonly lastAttempt: boolean,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * What a failure of this run means for its part: `record` is the failure transition;
   * `fallback` is what the part reports for an error that is not one of ours.
   */
  onFailure(
    record: (failure: PartFailure) => Promise<unknown>,
    fallback: { code: ErrorCode; message: string },
  ): void {
    this.failure = { record, fallback };
  }

  /** Whether a failure transition was registered (else the worker leaves the failure to pg-boss). */
  get recordsFailures(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Watches the run's video job: aborts `signal` the moment its cancellation is announced, or
   * when a check every half second finds it cancelled (an announcement can be missed while the
   * connection is down). Each check also writes the highest progress reported since, in 5 %
   * steps. Returns the reporter for the provider.
   */
  watch(
    jobId: string,
    cancellations: Pick<JobCancellations, "isCancelled" | "onCancelled">,
    progress?: (fraction: number) => Promise<unknown>,
  ): (fraction: number) => void {
    const cancel = () => this.controller.abort(new AppError("CANCELLED", "The job was cancelled"));
    this.unsubscribe = cancellations.onCancelled(jobId, cancel);
    this.timer = setInterval(async () => {
      try {
        if (await cancellations.isCancelled(jobId)) return cancel();
        const rounded = Math.floor(this.latest * PROGRESS_STEPS) / PROGRESS_STEPS;
        if (progress && rounded > this.written) {
          this.written = rounded;
          await progress(rounded);
        }
      } catch {
        // A missed tick is harmless; the next one catches up.
      }
    }, CHECK_INTERVAL_MS);
    this.timer.unref();
    return (fraction) => {
      this.latest = Math.max(this.latest, Math.min(1, Math.max(0, fraction)));
    };
  }

  /**
   * Stops the work because this process is shutting down: `signal` aborts (FFmpeg and the other
   * children are killed through it) and the run's failure is not recorded against its part —
   * pg-boss retries it, here after a restart or in another worker (on its last attempt the part
   * fails with the shutdown as its reason).
   */
  interrupt(): void {
    if (this.signal.aborted) return;
    this.#interrupted = true;
    this.controller.abort(
      new AppError("SERVICE_UNAVAILABLE", "The worker is shutting down", { transient: true }),
    );
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Classifies `error` and records it with the part's failure transition; returns the verdict. */
  async failed(error: unknown): Promise<FailureVerdict> {
    const verdict = classifyFailure(error, {
      aborted: this.signal.aborted,
      lastAttempt: this.lastAttempt,
      interrupted: this.#interrupted,
    });
    const handedBack = verdict === "retry" && this.#interrupted;
    if (verdict !== "cancelled" && !handedBack && this.failure) {
      const reason: unknown = this.#interrupted ? this.signal.reason : error;
      const app = isAppError(reason)
        ? reason
        : new AppError(this.failure.fallback.code, this.failure.fallback.message);
      await this.failure.record({ code: app.code, message: app.message, final: verdict === "final" });
    }
    return verdict;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
  }
}
