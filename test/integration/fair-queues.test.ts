/**
 * Fair queues and tenant slots, on the real app (pg-boss, workers, triggers) with a video provider
 * that takes exactly 4 s per clip, so the timings measure scheduling rather than the CPU:
 * - tenant A submits 20 jobs, then tenant B one: B's scenes are delayed by at most one scene's
 *   render (fair-share priorities put B's parts ahead of A's backlog), and its assembly by no more
 *   than sharing the CPU with A's one running job;
 * - A never runs more jobs at once than its concurrent-jobs quota; the rest wait QUEUED with
 *   stage `waiting_for_slot` and are admitted as slots free.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { VideoJobEntity } from "../../src/db/entities/index.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import {
  FAIRNESS_SETTINGS,
  fairnessProviders,
  jobSeconds,
  runFairnessScenario,
  SCENE_SECONDS,
  SLOTS_OF_A,
} from "../helpers/fairness.js";
import { waitForJob } from "../helpers/pipeline.js";

/** Scheduling and database round trips on a loaded two-core machine, on top of a bound. */
const SLACK_SECONDS = 1.5;

describe("fair queues and tenant slots", () => {
  let app: InProcessApp;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-fair-"));
    app = await startInProcessApp(FAIRNESS_SETTINGS, { providers: fairnessProviders(scratch) });
  });
  after(async () => {
    await app?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** When the job first reached each stage, in seconds from its creation (one read of its events). */
  const stages = async (job: VideoJobEntity): Promise<Map<string, number>> => {
    const events: { payload: { job?: { stage?: string } }; created_at: Date }[] =
      await app.services.dataSource.query(
        "SELECT payload, created_at FROM job_event WHERE job_id = $1 ORDER BY sequence",
        [job.id],
      );
    const firstSeen = new Map<string, number>();
    for (const event of events) {
      const stage = event.payload.job?.stage ?? "";
      if (!firstSeen.has(stage))
        firstSeen.set(stage, (event.created_at.getTime() - job.createdAt.getTime()) / 1000);
    }
    return firstSeen;
  };
  /** The stages as one line (a failing bound's explanation). */
  const timeline = (seen: Map<string, number>) =>
    [...seen].map(([stage, seconds]) => `${stage} ${seconds}`).join(", ");
  /** Seconds from the job's creation to its assembly's start (its scenes all rendered). */
  const untilAssembling = (seen: Map<string, number>): number => {
    const seconds = seen.get("assembling");
    assert.ok(seconds !== undefined, "the job reached its assembly");
    return seconds;
  };

  it("delays a one-job tenant by at most one scene's render behind another tenant's 20 jobs", async (t) => {
    const { services } = app;
    const { tenantA, idle, batch, loaded } = await runFairnessScenario(services, {
      a: "tenant-a",
      b: "tenant-b",
    });
    assert.deepEqual(
      batch.slice(0, SLOTS_OF_A + 1).map((job) => job.stage),
      [...Array(SLOTS_OF_A).fill("queued"), "waiting_for_slot"],
      "A's first jobs take its slots; the next waits for one",
    );
    const ratio = jobSeconds(loaded) / jobSeconds(idle);
    const [idleStages, loadedStages] = [await stages(idle), await stages(loaded)];
    t.diagnostic(`B idle: ${timeline(idleStages)}`);
    t.diagnostic(`B loaded: ${timeline(loadedStages)}`);
    t.diagnostic(
      `B idle ${jobSeconds(idle).toFixed(2)} s, behind A's 20 jobs ${jobSeconds(loaded).toFixed(2)} s: ${ratio.toFixed(2)}×`,
    );
    // The bound: A's backlog delays B's job by no more than one scene's render. B's scenes
    // may wait for one of A's running clips to end (SCENE_SECONDS), never behind A's queued ones
    // (that would be two renders or more before B's assembly).
    const [idleRender, loadedRender] = [untilAssembling(idleStages), untilAssembling(loadedStages)];
    const renderDelay = loadedRender - idleRender;
    t.diagnostic(`B's scenes: ${idleRender.toFixed(2)} s idle, ${loadedRender.toFixed(2)} s behind A's jobs`);
    assert.ok(
      renderDelay <= SCENE_SECONDS + SLACK_SECONDS,
      `B's scenes were delayed ${renderDelay.toFixed(2)} s (bound: one ${SCENE_SECONDS} s render + ${SLACK_SECONDS} s)`,
    );
    // Then B's assembly runs beside at most A's one running job (A's quota): on two cores it may
    // take up to twice its idle time, never wait behind A's backlog of assemblies. (As one ratio of
    // the whole job this was "≤ 2×", which two CI runs met at 1.67–1.76× and a third missed at
    // 2.02× with its scenes delayed by exactly one render: the two assemblies had overlapped.)
    const idleAssembly = jobSeconds(idle) - idleRender;
    const bound = jobSeconds(idle) + SCENE_SECONDS + idleAssembly + SLACK_SECONDS;
    assert.ok(
      jobSeconds(loaded) <= bound,
      `B's job took ${jobSeconds(loaded).toFixed(2)} s behind A's (bound ${bound.toFixed(2)} s)`,
    );

    // A's waiting jobs are admitted as its slots free (at least one by now, or soon); then the
    // rest of the batch is cancelled, waiting or not, to keep the test short.
    const admittedLater = async () =>
      (
        await services.dataSource.query(
          "SELECT count(*)::int AS n FROM video_job WHERE tenant_id = $1 AND admitted_at > created_at + interval '1 second'",
          [tenantA],
        )
      )[0].n as number;
    const deadline = Date.now() + 120_000;
    while ((await admittedLater()) === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    assert.ok((await admittedLater()) > 0, "a job past A's slots was admitted when a slot freed");
    for (const job of batch) await services.jobStates.cancel(job.id);
    const ended = [];
    for (const job of batch) ended.push(await waitForJob(services, job.id));
    const ran = ended.filter((job) => job.admittedAt);
    const edges = ran.flatMap((job) => [
      { at: job.admittedAt!.getTime(), delta: 1 },
      { at: job.finishedAt!.getTime(), delta: -1 },
    ]);
    // Ends before starts at the same instant: a slot freed and re-used in one moment is not two.
    edges.sort((x, y) => x.at - y.at || x.delta - y.delta);
    let running = 0;
    let most = 0;
    for (const edge of edges) {
      running += edge.delta;
      most = Math.max(most, running);
    }
    assert.equal(most, SLOTS_OF_A, `A ran at most ${most} jobs at once`);
    const neverRan = ended.filter((job) => !job.admittedAt);
    assert.ok(
      neverRan.every((job) => job.status === "CANCELLED" && job.stage === "cancelled"),
      "a job cancelled while it waited for a slot never ran",
    );
  });
});
