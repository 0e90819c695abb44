/**
 * Fair queues and tenant slots, on the real app (pg-boss, workers, triggers) with a video provider
 * that takes exactly 4 s per clip, so the timings measure scheduling rather than the CPU:
 * - tenant A submits 20 jobs, then tenant B one: B's job takes at most 2× its time on an idle
 *   system (fair-share priorities put B's parts ahead of A's backlog);
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
  SLOTS_OF_A,
} from "../helpers/fairness.js";
import { waitForJob } from "../helpers/pipeline.js";

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

  /** When the job's status changed, in seconds from its creation (a failing bound's explanation). */
  const timeline = async (job: VideoJobEntity) => {
    const events: { payload: { job?: { status?: string; stage?: string } }; created_at: Date }[] =
      await app.services.dataSource.query(
        "SELECT payload, created_at FROM job_event WHERE job_id = $1 ORDER BY sequence",
        [job.id],
      );
    const seen = new Set<string>();
    return events
      .filter((event) => {
        const stage = event.payload.job?.stage ?? "";
        return !seen.has(stage) && seen.add(stage);
      })
      .map(
        (event) =>
          `${event.payload.job?.stage} ${(event.created_at.getTime() - job.createdAt.getTime()) / 1000}`,
      )
      .join(", ");
  };

  it("keeps a one-job tenant within 2× its idle time behind another tenant's 20 jobs", async (t) => {
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
    t.diagnostic(`B idle: ${await timeline(idle)}`);
    t.diagnostic(`B loaded: ${await timeline(loaded)}`);
    t.diagnostic(
      `B idle ${jobSeconds(idle).toFixed(2)} s, behind A's 20 jobs ${jobSeconds(loaded).toFixed(2)} s: ${ratio.toFixed(2)}×`,
    );
    assert.ok(ratio <= 2, `B's job took ${ratio.toFixed(2)}× its idle time (bound 2×)`);

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
