import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Job, PgBoss } from "pg-boss";
import { AppError } from "../../src/errors.js";
import { parseJobEvent } from "../../src/events/job-event.types.js";
import { classifyFailure, PartRun } from "../../src/jobs/part-run.js";
import { QUEUE_POLICIES } from "../../src/jobs/queues.js";
import { type JobHandlers, startWorkers } from "../../src/jobs/worker.js";
import { silentLogger } from "../../src/logger.js";
import { PredictionWakeups } from "../../src/providers/replicate/prediction-waiter.js";
import type { PartFailure } from "../../src/services/job-part.state-machine.js";

describe("the worker's failure classifier", () => {
  const early = { aborted: false, lastAttempt: false };

  it("calls a run cancelled when its job was cancelled, whatever the error says", () => {
    assert.equal(classifyFailure(new Error("EPIPE"), { aborted: true, lastAttempt: true }), "cancelled");
    assert.equal(classifyFailure(new AppError("CANCELLED", "Cancelled"), early), "cancelled");
  });

  it("calls bad input and a provider's refusal final, and retries what may go better", () => {
    assert.equal(classifyFailure(new AppError("BAD_USER_INPUT", "no photos"), early), "final");
    assert.equal(classifyFailure(new AppError("PROVIDER_FAILED", "422"), early), "final");
    assert.equal(
      classifyFailure(new AppError("PROVIDER_FAILED", "503", { transient: true }), early),
      "retry",
    );
    assert.equal(classifyFailure(new AppError("TIMEOUT", "ffmpeg took too long"), early), "retry");
    assert.equal(classifyFailure(new Error("connection reset"), early), "retry");
  });

  it("makes the last attempt final", () => {
    const last = { aborted: false, lastAttempt: true };
    assert.equal(classifyFailure(new Error("connection reset"), last), "final");
    assert.equal(classifyFailure(new AppError("TIMEOUT", "again"), last), "final");
  });

  it("hands a run interrupted by the shutdown back for a retry, failing it only on its last attempt", () => {
    const interrupted = { aborted: true, lastAttempt: false, interrupted: true };
    // whatever the work threw as its children were killed
    assert.equal(classifyFailure(new Error("ffmpeg was killed by SIGKILL"), interrupted), "retry");
    assert.equal(classifyFailure(new AppError("BAD_USER_INPUT", "x"), interrupted), "retry");
    assert.equal(classifyFailure(new Error("EPIPE"), { ...interrupted, lastAttempt: true }), "final");
  });
});

describe("a part run interrupted by its process's shutdown", () => {
  const recorder = () => {
    const recorded: PartFailure[] = [];
    return { recorded, record: async (failure: PartFailure) => recorded.push(failure) };
  };

  it("aborts its signal and records no failure against the part (pg-boss retries it)", async () => {
    const run = new PartRun(0, false);
    const { recorded, record } = recorder();
    run.onFailure(record, { code: "INTERNAL_SERVER_ERROR", message: "Scene failed" });
    run.interrupt();
    assert.equal(run.signal.aborted, true);
    assert.equal(run.interrupted, true);
    assert.equal(await run.failed(new Error("ffmpeg was killed by SIGKILL")), "retry");
    assert.deepEqual(recorded, []);
  });

  it("on its last attempt, fails the part with the shutdown as the reason", async () => {
    const run = new PartRun(2, true);
    const { recorded, record } = recorder();
    run.onFailure(record, { code: "INTERNAL_SERVER_ERROR", message: "Scene failed" });
    run.interrupt();
    assert.equal(await run.failed(new Error("ffmpeg was killed by SIGKILL")), "final");
    assert.deepEqual(recorded, [
      { code: "SERVICE_UNAVAILABLE", message: "The worker is shutting down", final: true },
    ]);
  });

  it("stays a cancellation when its job was cancelled first", async () => {
    const run = new PartRun(0, false);
    const cancelled = new Map<string, () => void>();
    run.watch("job-1", {
      isCancelled: async () => false,
      onCancelled: (jobId, listener) => {
        cancelled.set(jobId, listener);
        return () => cancelled.delete(jobId);
      },
    });
    cancelled.get("job-1")!();
    run.interrupt();
    run.stop();
    assert.equal(run.interrupted, false);
    assert.equal(await run.failed(new Error("aborted")), "cancelled");
  });
});

describe("the worker and pg-boss's job signal", () => {
  /** startWorkers against a stand-in for pg-boss that keeps each queue's callback. */
  async function workers(renditions: JobHandlers["video.renditions"]) {
    const callbacks = new Map<string, (jobs: Job<object>[]) => Promise<void>>();
    const boss = {
      work: async (name: string, _options: object, callback: (jobs: Job<object>[]) => Promise<void>) => {
        callbacks.set(name, callback);
      },
    } as unknown as PgBoss;
    const handlers = Object.fromEntries(
      Object.keys(QUEUE_POLICIES).map((name) => [name, async () => {}]),
    ) as unknown as JobHandlers;
    handlers["video.renditions"] = renditions;
    const running = await startWorkers(
      boss,
      handlers,
      silentLogger,
      { renderConcurrency: 1 },
      async () => {},
    );
    return { running, deliver: callbacks.get("video.renditions")! };
  }
  const job = (signal: AbortSignal): Job<object> =>
    ({
      id: "j1",
      name: "video.renditions",
      data: { jobId: "v1", mediaId: "m1" },
      retryCount: 0,
      signal,
    }) as never;

  it("stops the run when pg-boss takes its job back, and hands it back for a retry", async () => {
    const taken = new AbortController();
    let seen: AbortSignal | undefined;
    const { running, deliver } = await workers(async (_payload, run) => {
      seen = run.signal;
      // stands for an FFmpeg killed through the run's signal
      await new Promise((_, reject) =>
        run.signal.addEventListener("abort", () => reject(new Error("killed"))),
      );
    });
    const handled = deliver([job(taken.signal)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(running.size, 1);
    taken.abort();
    await assert.rejects(handled, { code: "SERVICE_UNAVAILABLE" }, "thrown back to pg-boss: retried");
    assert.equal(seen?.aborted, true);
    assert.equal(running.size, 0);
  });

  it("leaves a run alone when pg-boss aborts the signal after the handler is done", async () => {
    const taken = new AbortController();
    let seen: AbortSignal | undefined;
    const { deliver } = await workers(async (_payload, run) => {
      seen = run.signal;
    });
    await deliver([job(taken.signal)]);
    taken.abort(); // pg-boss aborts it on an ordinary completion too
    assert.equal(seen?.aborted, false);
  });

  it("interrupts what still runs when asked, and waits for it to settle", async () => {
    let settled = false;
    const { running, deliver } = await workers(async (_payload, run) => {
      await new Promise((resolve) => run.signal.addEventListener("abort", resolve));
      await new Promise((resolve) => setTimeout(resolve, 50)); // the child's exit
      settled = true;
      throw new Error("killed");
    });
    const handled = deliver([job(new AbortController().signal)]);
    handled.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    await running.interrupt();
    assert.equal(settled, true, "interrupt() returned before the run had settled");
    await assert.rejects(handled, { code: "SERVICE_UNAVAILABLE" });
  });
});

describe("reading a job event", () => {
  it("takes an event that states the job as it is", () => {
    const event = parseJobEvent("SCENE_UPDATED", {
      job: { status: "RENDERING", stage: "rendering", progress: 0.475 },
      scene: { index: 2, status: "RUNNING", progress: 0.35, error: null },
    });
    assert.deepEqual(event, {
      type: "SCENE_UPDATED",
      job: { status: "RENDERING", stage: "rendering", progress: 0.475 },
      scene: { index: 2, status: "RUNNING", progress: 0.35, error: null },
    });
  });

  it("reads events written before events carried the job's state from their own payload and type", () => {
    assert.deepEqual(parseJobEvent("CREATED", { status: "QUEUED" }).job, {
      status: "QUEUED",
      stage: "queued",
      progress: 0,
    });
    assert.deepEqual(parseJobEvent("JOB_UPDATED", { status: "ASSEMBLING", stage: "assembling" }).job, {
      status: "ASSEMBLING",
      stage: "assembling",
      progress: 0.9,
    });
    const score = parseJobEvent("JOB_UPDATED", { scoreStatus: "SUCCEEDED", scoreProgress: 1 });
    assert.equal(score.job.status, "RENDERING");
    assert.ok(score.type === "JOB_UPDATED");
    assert.deepEqual(score.score, { status: "SUCCEEDED", progress: 1, error: null });

    // A scene event's `status` was the scene's, never the job's.
    const scene = parseJobEvent("SCENE_UPDATED", { index: 1, status: "SUCCEEDED" });
    assert.ok(scene.type === "SCENE_UPDATED");
    assert.equal(scene.job.status, "RENDERING");
    assert.deepEqual(scene.scene, { index: 1, status: "SUCCEEDED", progress: 1, error: null });

    const failed = parseJobEvent("FAILED", {
      status: "FAILED",
      errorCode: "PROVIDER_FAILED",
      error: "Scene 2: x",
    });
    assert.ok(failed.type === "FAILED");
    assert.deepEqual(failed.error, { code: "PROVIDER_FAILED", message: "Scene 2: x" });
    assert.deepEqual(parseJobEvent("COMPLETED", { status: "SUCCEEDED" }).job, {
      status: "SUCCEEDED",
      stage: "done",
      progress: 1,
    });
    assert.equal(parseJobEvent("CANCELLED", {}).job.status, "CANCELLED");
  });
});

describe("waiting on a prediction", () => {
  it("keeps a wake-up that arrives while the waiter looks at the prediction", async () => {
    const wakeups = new PredictionWakeups();
    const watch = wakeups.watch("p1");
    watch.looking();
    wakeups.wake("p1"); // the webhook lands while the GET is on its way
    assert.equal(await watch.wait(60_000), true, "the wait returns at once instead of sleeping");
    watch.close();
    assert.equal(wakeups.waiting, 0);
  });

  it("forgets a wake-up that the next look answers, and ends the wait on abort", async () => {
    const wakeups = new PredictionWakeups();
    const watch = wakeups.watch("p2");
    wakeups.wake("p2");
    watch.looking(); // this look sees what the wake-up announced
    const controller = new AbortController();
    const waiting = watch.wait(60_000, controller.signal);
    wakeups.wake("another prediction");
    controller.abort();
    assert.equal(await waiting, false);
    const woken = watch.wait(60_000);
    wakeups.wake("p2");
    assert.equal(await woken, true);
    watch.close();
  });
});
