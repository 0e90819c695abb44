import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import { parseJobEvent } from "../../src/events/job-event.types.js";
import { classifyFailure } from "../../src/jobs/part-run.js";
import { PredictionWakeups } from "../../src/providers/replicate/prediction-waiter.js";

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
