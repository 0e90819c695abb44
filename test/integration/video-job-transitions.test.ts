import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { JobEvent } from "../../src/events/job-event.types.js";
import { JOB_EVENTS_CHANNEL } from "../../src/events/job-events.js";
import type { ScenePick } from "../../src/providers/types.js";
import type { SceneClaim } from "../../src/services/job-part.state-machine.js";
import { estimateItems, normaliseOptions } from "../../src/services/video-pipeline.service.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { campaignWithPhotos } from "../helpers/pipeline.js";

/**
 * The video job's state machine against real PostgreSQL (and real pg-boss, with no worker
 * running): every transition moves the job once, a stale attempt token or an old assembly
 * generation changes nothing, and each transition's event states the job as it left it.
 */
describe("video job transitions", () => {
  let app: InProcessApp;
  let tenantId: string;
  let campaignId: string;
  let assetIds: string[];

  before(async () => {
    app = await startInProcessApp({}, { workers: false });
    ({ tenantId } = await app.newTenant("transitions"));
    ({ campaignId, assetIds } = await campaignWithPhotos(app.services, tenantId, [
      "exterior-01.jpg",
      "living-01.jpg",
    ]));
    await app.services.notifications.start();
  });
  after(async () => app?.close());

  const states = () => app.services.jobStates;
  const parts = () => app.services.jobParts;
  const query = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    app.services.dataSource.query(sql, params) as Promise<T[]>;

  async function newJob(sceneCount = 2): Promise<string> {
    const options = normaliseOptions(
      { campaignId, sceneCount },
      { musicMood: null, timeZone: null, price: null },
    );
    const job = await states().create(
      {
        tenantId,
        campaignId,
        options,
        inputHash: randomBytes(8).toString("hex"),
        estimatedCost: estimateItems(options, app.services.providers),
      },
      null,
    );
    return job.id;
  }

  const picks = (count: number): ScenePick[] =>
    Array.from({ length: count }, (_, index) => ({
      index,
      sceneType: index === 0 ? "EXTERIOR" : "LIVING",
      firstAssetId: assetIds[0]!,
      lastAssetId: assetIds[1]!,
      cameraMove: "PUSH_IN",
      prompt: "a room",
      confidence: 0.8,
      reasoning: "picked for the test",
    }));

  /** A job whose plan is stored: RENDERING, its scenes PENDING. */
  async function renderingJob(sceneCount = 2, selectorCostUsd?: number): Promise<string> {
    const jobId = await newJob(sceneCount);
    assert.equal(await states().startPlanning(jobId), true);
    assert.equal(
      await states().storePlan(jobId, { picks: picks(sceneCount), costUsd: selectorCostUsd }),
      true,
    );
    return jobId;
  }

  async function events(jobId: string): Promise<(JobEvent & { sequence: number })[]> {
    const rows = await query<{ sequence: number; type: string; payload: Record<string, unknown> }>(
      "SELECT sequence, type, payload FROM job_event WHERE job_id = $1 ORDER BY sequence",
      [jobId],
    );
    return rows.map(
      (row) => ({ ...(row.payload as object), type: row.type, sequence: row.sequence }) as never,
    );
  }

  async function row(jobId: string) {
    const [job] = await query<{
      status: string;
      stage: string;
      progress: number;
      score_status: string;
      assembly_generation: number;
      last_sequence: number;
      video_media_id: string | null;
      error: string | null;
    }>("SELECT * FROM video_job WHERE id = $1", [jobId]);
    return job!;
  }

  async function scene(jobId: string, index: number) {
    const [found] = await query<{
      status: string;
      progress: number;
      attempt_token: string | null;
      provider_ref: string | null;
      clip_media_id: string | null;
    }>("SELECT * FROM scene WHERE job_id = $1 AND index = $2", [jobId, index]);
    return found!;
  }

  /** Jobs queued in pg-boss for this video job. */
  async function queued(name: string, jobId: string): Promise<number> {
    const [counted] = await query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND data->>'jobId' = $2",
      [name, jobId],
    );
    return counted!.n;
  }

  async function newMedia(): Promise<string> {
    const stored = await app.services.media.store(tenantId, randomBytes(64), {
      contentType: "video/mp4",
      maxBytes: 1024,
    });
    return stored.media.id;
  }

  /** Progress is a `real`: compare at its precision. */
  const near = (actual: number, expected: number) => Math.abs(actual - expected) < 1e-6;

  const failure = (message: string, final: boolean) => ({ code: "PROVIDER_FAILED" as const, message, final });

  const mediaExists = async (id: string) => (await app.services.media.byId(tenantId, id)) !== null;

  it("creates, plans and fans out each exactly once, every event stating the job as it left it", async () => {
    const jobId = await newJob();
    assert.equal(await queued("video.plan", jobId), 1);
    assert.equal(await states().startPlanning(jobId), true);
    assert.equal(await states().startPlanning(jobId), false, "a second start changes nothing");
    assert.equal(
      await states().storePlan(jobId, { picks: picks(2), costUsd: 0.06, note: "by the test" }),
      true,
    );
    assert.equal(await states().storePlan(jobId, { picks: picks(2) }), false, "the plan is stored once");
    assert.equal((await query("SELECT 1 FROM scene WHERE job_id = $1", [jobId])).length, 2);
    const job = await row(jobId);
    assert.deepEqual([job.status, job.stage, job.progress], ["RENDERING", "rendering", 0.05]);

    const log = await events(jobId);
    assert.deepEqual(
      log.map((event) => [event.type, event.job.status, event.job.stage, event.job.progress]),
      [
        ["CREATED", "QUEUED", "queued", 0],
        ["JOB_UPDATED", "PLANNING", "selecting", 0],
        ["JOB_UPDATED", "RENDERING", "rendering", 0.05],
        ["COST_UPDATED", "RENDERING", "rendering", 0.05],
      ],
    );
    const cost = log[3]!;
    assert.ok(cost.type === "COST_UPDATED");
    assert.deepEqual(cost.cost, { kind: "SELECTION", sceneIndex: null, usd: 0.06, totalUsd: 0.06 });

    await states().fanOut(jobId);
    assert.equal(await queued("video.scene", jobId), 2, "every pending scene");
    assert.equal(await queued("video.score", jobId), 1, "and the score");
    // A retried plan fans out again: only what has not started is sent again.
    await parts().claimScene(jobId, 0);
    await parts().claimScore(jobId);
    await states().fanOut(jobId);
    assert.equal(await queued("video.scene", jobId), 3);
    assert.equal(await queued("video.score", jobId), 1);
  });

  it("a scene attempt whose claim was taken over changes nothing", async () => {
    const jobId = await renderingJob();
    const stale = (await parts().claimScene(jobId, 0))!;
    const current = (await parts().claimScene(jobId, 0))!;
    assert.notEqual(stale.token, current.token);
    const before = (await events(jobId)).length;
    const lastSequence = (await row(jobId)).last_sequence;
    const clip = await newMedia();

    assert.equal(await parts().reportSceneProgress(stale, 0.5), false);
    assert.equal(await parts().recordSceneProviderRef(stale, "stale-prediction"), false);
    assert.equal(await parts().sceneSucceeded(stale, { clipMediaId: clip, costUsd: 0.4 }), false);
    assert.equal(await parts().sceneFailed(stale, failure("x", true)), false);

    const now = await scene(jobId, 0);
    assert.deepEqual(
      [now.status, now.progress, now.attempt_token, now.provider_ref, now.clip_media_id],
      ["RUNNING", 0, current.token, null, null],
    );
    assert.equal((await row(jobId)).status, "RENDERING", "the stale final failure did not fail the job");
    assert.equal((await events(jobId)).length, before, "no event");
    assert.equal(await mediaExists(clip), false, "the stale attempt's clip is released");

    assert.equal(
      (await row(jobId)).last_sequence,
      lastSequence,
      "the refused reports took no sequence number",
    );

    // A progress report is one statement (the guarded write, its event and the NOTIFY together).
    const announced: string[] = [];
    const unlisten = app.services.notifications.on(JOB_EVENTS_CHANNEL, (payload) => announced.push(payload));
    try {
      assert.equal(await parts().reportSceneProgress(current, 0.5), true);
      const [progress] = (await events(jobId)).slice(before);
      assert.ok(progress?.type === "SCENE_UPDATED");
      assert.deepEqual(progress.scene, { index: 0, status: "RUNNING", progress: 0.5, error: null });
      assert.equal(progress.job.status, "RENDERING");
      assert.equal(progress.sequence, lastSequence + 1, "the next sequence number, no gap");
      assert.equal((await scene(jobId, 0)).progress, 0.5);
      for (let i = 0; i < 100 && !announced.includes(`${jobId}:${progress.sequence}`); i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(announced.includes(`${jobId}:${progress.sequence}`), `announced: ${announced.join(", ")}`);
    } finally {
      unlisten();
    }
  });

  it("a retryable scene failure goes back to PENDING; a final one fails the job, once", async () => {
    const jobId = await renderingJob();
    const first = (await parts().claimScene(jobId, 1))!;
    await parts().reportSceneProgress(first, 0.3);
    assert.equal(await parts().sceneFailed(first, failure("busy", false)), true);
    assert.deepEqual([(await scene(jobId, 1)).status, (await scene(jobId, 1)).progress], ["PENDING", 0]);
    assert.equal((await row(jobId)).status, "RENDERING");

    const second = (await parts().claimScene(jobId, 1))!;
    assert.equal(await parts().sceneFailed(second, failure("refused", true)), true);
    assert.equal(await parts().sceneFailed(second, failure("again", true)), false);
    const job = await row(jobId);
    assert.deepEqual([job.status, job.error], ["FAILED", "Scene 2: refused"]);
    const log = await events(jobId);
    assert.equal(log.filter((event) => event.type === "FAILED").length, 1);
    assert.deepEqual(
      log.slice(-2).map((event) => [event.type, event.job.status]),
      [
        ["SCENE_UPDATED", "RENDERING"],
        ["FAILED", "FAILED"],
      ],
    );
    assert.equal(await parts().claimScene(jobId, 0), null, "a failed job's scenes are not claimed");
  });

  it("begins the assembly exactly once per generation, and an old generation's assembly changes nothing", async () => {
    const jobId = await renderingJob();
    assert.equal(await parts().claimScore(jobId), true);
    for (const index of [0, 1]) {
      const claim = (await parts().claimScene(jobId, index)) as SceneClaim;
      assert.equal(await parts().sceneSucceeded(claim, { clipMediaId: await newMedia(), costUsd: 0 }), true);
    }
    assert.ok(near((await row(jobId)).progress, 0.9), "the scenes filled their share");
    assert.equal((await row(jobId)).status, "RENDERING", "the score is still running");
    // The score's success lands by hand so that the fan-in can be raced.
    const score = await newMedia();
    await query("UPDATE video_job SET score_status = 'SUCCEEDED', score_media_id = $2 WHERE id = $1", [
      jobId,
      score,
    ]);
    const started = await Promise.all(Array.from({ length: 6 }, () => states().beginAssembly(jobId)));
    assert.deepEqual(
      started.filter((generation) => generation !== null),
      [1],
    );
    assert.equal(await queued("video.assemble", jobId), 1);
    const assembling = await row(jobId);
    assert.deepEqual([assembling.status, assembling.progress], ["ASSEMBLING", 0.9]);

    const video = { durationSeconds: 8, width: 1920, height: 1080, byteSize: 64 };
    const stale = { ...video, videoMediaId: await newMedia(), posterMediaId: await newMedia() };
    assert.equal(await states().finish(jobId, 0, stale), false, "generation 0 is not the one running");
    assert.equal(await mediaExists(stale.videoMediaId), false, "and keeps nothing");
    const first = { ...video, videoMediaId: await newMedia(), posterMediaId: await newMedia() };
    assert.equal(await states().finish(jobId, 1, first), true);
    assert.equal(await states().finish(jobId, 1, first), false, "a repeated finish changes nothing");
    const done = await row(jobId);
    assert.deepEqual([done.status, done.progress, done.video_media_id], ["SUCCEEDED", 1, first.videoMediaId]);
    const completed = (await events(jobId)).at(-1)!;
    assert.ok(completed.type === "COMPLETED");
    assert.equal(completed.video.mediaId, first.videoMediaId);
    assert.deepEqual([completed.job.status, completed.job.progress], ["SUCCEEDED", 1]);

    // A scene re-rendered: the same job assembles again as generation 2; generation 1 is stale.
    await states().retryScene(jobId, 1, { cameraMove: "PAN_LEFT" });
    const reopened = await row(jobId);
    assert.equal(reopened.status, "RENDERING");
    assert.ok(
      near(reopened.progress, 0.05 + 0.85 / 2),
      `progress ${reopened.progress}: one scene of two to do`,
    );
    const again = (await parts().claimScene(jobId, 1)) as SceneClaim;
    await parts().sceneSucceeded(again, { clipMediaId: await newMedia(), costUsd: 0 });
    assert.equal((await row(jobId)).assembly_generation, 2);
    assert.equal(await queued("video.assemble", jobId), 2);
    const late = { ...video, videoMediaId: await newMedia(), posterMediaId: await newMedia() };
    assert.equal(await states().finish(jobId, 1, late), false);
    const second = { ...video, videoMediaId: await newMedia(), posterMediaId: await newMedia() };
    assert.equal(await states().finish(jobId, 2, second), true);
    assert.equal(await mediaExists(first.videoMediaId), false, "the earlier video is released");
    assert.equal(await mediaExists(second.videoMediaId), true);
  });

  it("records actual charges with COST_UPDATED and the job's new total", async () => {
    const jobId = await renderingJob(1);
    const claim = (await parts().claimScene(jobId, 0)) as SceneClaim;
    await parts().sceneSucceeded(claim, { clipMediaId: await newMedia(), costUsd: 0.4 });
    assert.equal(await parts().claimScore(jobId), true);
    await parts().scoreSucceeded(jobId, { mediaId: await newMedia(), costUsd: 0.05 });
    const costs = (await events(jobId)).filter((event) => event.type === "COST_UPDATED");
    assert.deepEqual(
      costs.map((event) => (event.type === "COST_UPDATED" ? event.cost : null)),
      [
        { kind: "VIDEO", sceneIndex: 0, usd: 0.4, totalUsd: 0.4 },
        { kind: "MUSIC", sceneIndex: null, usd: 0.05, totalUsd: 0.45 },
      ],
    );
    assert.equal((await row(jobId)).status, "ASSEMBLING", "the last part began the assembly");
  });

  it("guards the score by its status: a retry goes back to PENDING, an ended job keeps nothing", async () => {
    const jobId = await newJob();
    assert.equal(await parts().claimScore(jobId), false, "not before the job plans");
    await states().startPlanning(jobId);
    await states().storePlan(jobId, { picks: picks(2) });
    assert.equal(await parts().claimScore(jobId), true);
    await parts().reportScoreProgress(jobId, 0.4);
    assert.equal(await parts().scoreFailed(jobId, failure("busy", false)), true);
    assert.equal(await parts().scoreFailed(jobId, failure("x", false)), false);
    const retried = (await events(jobId)).at(-1)!;
    assert.ok(retried.type === "JOB_UPDATED");
    assert.deepEqual(retried.score, { status: "PENDING", progress: 0, error: "busy" });
    assert.equal(await parts().claimScore(jobId), true);
    assert.equal(await states().cancel(jobId), true);
    const mastered = await newMedia();
    assert.equal(await parts().scoreSucceeded(jobId, { mediaId: mastered, costUsd: 0 }), false);
    assert.equal(await mediaExists(mastered), false);
    assert.equal((await row(jobId)).score_status, "CANCELLED");
  });

  it("a cancel takes its row locks in the scene transitions' order: no deadlock with a scene mid-write", async () => {
    const jobId = await renderingJob();
    await parts().claimScene(jobId, 0);
    // A scene transition half-way: its scene row locked, the job row (its event) still to come.
    const writer = app.services.dataSource.createQueryRunner();
    await writer.connect();
    try {
      await writer.startTransaction();
      await writer.query("UPDATE scene SET progress = 0.4 WHERE job_id = $1 AND index = 0", [jobId]);
      let cancelError: unknown;
      const cancelling = states()
        .cancel(jobId)
        .catch((error: unknown) => {
          cancelError = error;
          return false;
        });
      // The cancel now waits for the scene (it must not hold the job meanwhile: with the job
      // locked first it did, and the writer's next statement deadlocked with it).
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writer.query("UPDATE video_job SET updated_at = now() WHERE id = $1", [jobId]);
      await writer.commitTransaction();
      assert.equal(await cancelling, true, `cancelled: ${String(cancelError)}`);
    } finally {
      if (writer.isTransactionActive) await writer.rollbackTransaction();
      await writer.release();
    }
    assert.equal((await row(jobId)).status, "CANCELLED");
    assert.equal((await scene(jobId, 0)).status, "CANCELLED");
  });

  it("cancels an unfinished job once, announces it, and nothing is claimed afterwards", async () => {
    const jobId = await renderingJob();
    const claim = (await parts().claimScene(jobId, 0)) as SceneClaim;
    const announced = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      app.services.cancellations.onCancelled(jobId, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    assert.equal(await states().cancel(jobId), true);
    assert.equal(await states().cancel(jobId), false);
    assert.equal(
      await states().fail(jobId, "INTERNAL_SERVER_ERROR", "late"),
      false,
      "an ended job does not fail",
    );
    assert.equal(await announced, true, "running parts hear of it at once");
    assert.equal(await app.services.cancellations.isCancelled(jobId), true);
    assert.deepEqual(
      [(await scene(jobId, 0)).status, (await scene(jobId, 1)).status, (await row(jobId)).score_status],
      ["CANCELLED", "CANCELLED", "CANCELLED"],
    );
    assert.equal(await parts().claimScene(jobId, 1), null);
    assert.equal(await parts().reportSceneProgress(claim, 0.9), false);
    assert.equal(await parts().claimScore(jobId), false);
    assert.equal(await states().beginAssembly(jobId), null);
    const log = await events(jobId);
    assert.equal(log.filter((event) => event.type === "CANCELLED").length, 1);
    assert.equal(log.at(-1)!.type, "CANCELLED");
  });
});
