import { randomBytes } from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { SceneEntity } from "../db/entities/index.js";
import type { SceneOverlayColumns } from "../db/entities/scene.entity.js";
import { type PartStatus, TERMINAL_JOB_STATUSES } from "../db/entities/video-job.entity.js";
import type { ErrorCode } from "../errors.js";
import type { SceneState, ScoreState } from "../events/job-event.types.js";
import { appendJobEvent, guardedWriteWithEvent } from "../events/job-events.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import type { WebhookOutbox } from "../webhooks/webhook-outbox.js";
import type { VideoJobStateMachine } from "./video-job.state-machine.js";
import { guardedUpdate, recordActualCost, releaseMedia, updateRenderProgress } from "./video-job.writes.js";

/** A part's failure as the worker classified it: `final` ends the part, and the job with it. */
export interface PartFailure {
  code: ErrorCode;
  message: string;
  final: boolean;
}

/** A scene claimed by one attempt: every later write of that attempt is guarded by its token. */
export interface SceneClaim {
  jobId: string;
  index: number;
  token: string;
  /** The scene as claimed (photos, move, prompt, the stored provider ref, the previous clip). */
  scene: SceneEntity;
}

/**
 * The transitions of a job's parts (its scenes and its score), the other half of the video
 * job's state machine. Like the job's own, each is one transaction with a guarded UPDATE — a
 * scene's writes by its attempt token, so an attempt whose claim was taken over changes nothing —
 * and appends its event in it. A part that succeeds tries the job's fan-in; one that fails for
 * good fails the job.
 *
 * ```
 * scene: PENDING ─claimScene→ RUNNING ─sceneSucceeded→ SUCCEEDED | ─sceneFailed→ PENDING (retried) | FAILED
 * score: PENDING ─claimScore→ RUNNING ─scoreSucceeded→ SUCCEEDED | ─scoreFailed→ PENDING (retried) | FAILED
 * ```
 */
export class JobPartStateMachine {
  constructor(
    private readonly deps: { dataSource: DataSource; jobs: VideoJobStateMachine; outbox: WebhookOutbox },
  ) {}

  /** Scene PENDING (or a dead attempt's RUNNING) → RUNNING under a fresh attempt token, while the job renders. */
  async claimScene(jobId: string, index: number): Promise<SceneClaim | null> {
    const token = randomBytes(8).toString("hex");
    return await this.transaction(async (manager) => {
      const claimed = await guardedUpdate<{ id: string }>(
        manager,
        `UPDATE scene SET status = 'RUNNING', attempt_token = $3, attempts = attempts + 1, progress = 0,
                started_at = now(), updated_at = now()
          WHERE job_id = $1 AND index = $2 AND status IN ('PENDING', 'RUNNING')
            AND EXISTS (SELECT 1 FROM video_job WHERE id = $1 AND status = 'RENDERING')
          RETURNING id`,
        [jobId, index, token],
      );
      if (!claimed) return null;
      const scene = await manager.getRepository(SceneEntity).findOneByOrFail({ id: claimed.id });
      await this.sceneEvent(manager, jobId, { index, status: "RUNNING", progress: 0, error: null });
      return { jobId, index, token, scene };
    });
  }

  /** The remote provider's reference for this attempt, stored before the adapter waits on it. */
  async recordSceneProviderRef(claim: SceneClaim, ref: string): Promise<boolean> {
    const stored = await guardedUpdate(
      this.deps.dataSource.manager,
      `UPDATE scene SET provider_ref = $3, updated_at = now()
        WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING id`,
      [claim.scene.id, claim.token, ref],
    );
    return stored !== undefined;
  }

  /** The most frequent write: the guarded UPDATE and its event in one statement (one round trip). */
  async reportSceneProgress(claim: SceneClaim, fraction: number): Promise<boolean> {
    return await guardedWriteWithEvent(
      this.deps.dataSource,
      {
        sql: `UPDATE scene SET progress = $3, updated_at = now()
               WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING id`,
        params: [claim.scene.id, claim.token, fraction],
      },
      claim.jobId,
      {
        type: "SCENE_UPDATED",
        scene: { index: claim.index, status: "RUNNING", progress: fraction, error: null },
      },
    );
  }

  /**
   * RUNNING → SUCCEEDED with the clip and the provider's charge, then the fan-in. A superseded
   * attempt keeps nothing: its clip is released (unless another row shares the bytes).
   */
  async sceneSucceeded(
    claim: SceneClaim,
    result: { clipMediaId: string; costUsd: number; overlays?: SceneOverlayColumns[] },
  ): Promise<boolean> {
    const { jobId, index } = claim;
    const stored = await this.transaction(async (manager) => {
      const updated = await guardedUpdate(
        manager,
        `UPDATE scene SET status = 'SUCCEEDED', progress = 1, clip_media_id = $3, cost_usd = cost_usd + $4,
                overlays = $5::jsonb, finished_at = now(), updated_at = now()
          WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING id`,
        [
          claim.scene.id,
          claim.token,
          result.clipMediaId,
          result.costUsd,
          JSON.stringify(result.overlays ?? []),
        ],
      );
      if (!updated) return false;
      await updateRenderProgress(manager, jobId);
      await this.sceneEvent(manager, jobId, { index, status: "SUCCEEDED", progress: 1, error: null });
      if (result.costUsd > 0) await recordActualCost(manager, jobId, "VIDEO", index, result.costUsd);
      const previous = claim.scene.clipMediaId;
      if (previous && previous !== result.clipMediaId) await deleteUnreferencedMedia(manager, [previous]);
      return true;
    });
    return await this.settleSuccess(jobId, stored, result.clipMediaId);
  }

  /** RUNNING → PENDING (pg-boss retries it) or FAILED, which fails the job. Stale attempts change nothing. */
  async sceneFailed(claim: SceneClaim, failure: PartFailure): Promise<boolean> {
    return await this.partFailed(
      claim.jobId,
      failure,
      `Scene ${claim.index + 1}`,
      async (manager, status) => {
        const updated = await guardedUpdate<{ progress: number }>(
          manager,
          `UPDATE scene SET status = $3, error_code = $4, error = $5, updated_at = now(),
                progress = CASE WHEN $3 = 'PENDING' THEN 0 ELSE progress END
          WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING progress`,
          [claim.scene.id, claim.token, status, failure.code, failure.message],
        );
        if (updated) {
          const { index } = claim;
          await this.sceneEvent(manager, claim.jobId, {
            index,
            status,
            progress: updated.progress,
            error: failure.message,
          });
          if (status === "FAILED") await this.deps.outbox.sceneFailed(manager, claim.jobId, index);
        }
        return updated !== undefined;
      },
    );
  }

  /** Score PENDING (or a dead attempt's RUNNING) → RUNNING, while the job plans or renders. */
  async claimScore(jobId: string): Promise<boolean> {
    return await this.transaction(async (manager) => {
      const claimed = await guardedUpdate(
        manager,
        `UPDATE video_job SET score_status = 'RUNNING', score_progress = 0, updated_at = now()
          WHERE id = $1 AND score_status IN ('PENDING', 'RUNNING') AND status IN ('PLANNING', 'RENDERING')
          RETURNING id`,
        [jobId],
      );
      if (claimed) await this.scoreEvent(manager, jobId, { status: "RUNNING", progress: 0, error: null });
      return claimed !== undefined;
    });
  }

  async reportScoreProgress(jobId: string, fraction: number): Promise<boolean> {
    return await this.transaction(async (manager) => {
      const updated = await guardedUpdate(
        manager,
        "UPDATE video_job SET score_progress = $2 WHERE id = $1 AND score_status = 'RUNNING' RETURNING id",
        [jobId, fraction],
      );
      if (updated)
        await this.scoreEvent(manager, jobId, { status: "RUNNING", progress: fraction, error: null });
      return updated !== undefined;
    });
  }

  /** Score RUNNING → SUCCEEDED with the mastered audio, then the fan-in; an ended job keeps nothing. */
  async scoreSucceeded(jobId: string, result: { mediaId: string; costUsd: number }): Promise<boolean> {
    const saved = await this.transaction(async (manager) => {
      const updated = await guardedUpdate(
        manager,
        `UPDATE video_job SET score_status = 'SUCCEEDED', score_progress = 1, score_media_id = $2, updated_at = now()
          WHERE id = $1 AND score_status = 'RUNNING' AND NOT status = ANY($3) RETURNING id`,
        [jobId, result.mediaId, TERMINAL_JOB_STATUSES],
      );
      if (!updated) return false;
      await this.scoreEvent(manager, jobId, { status: "SUCCEEDED", progress: 1, error: null });
      if (result.costUsd > 0) await recordActualCost(manager, jobId, "MUSIC", null, result.costUsd);
      return true;
    });
    return await this.settleSuccess(jobId, saved, result.mediaId);
  }

  /** Score RUNNING → PENDING (retried) or FAILED, which fails the job. */
  async scoreFailed(jobId: string, failure: PartFailure): Promise<boolean> {
    return await this.partFailed(jobId, failure, "Music", async (manager, status) => {
      const updated = await guardedUpdate<{ score_progress: number }>(
        manager,
        `UPDATE video_job SET score_status = $2, score_error = $3, updated_at = now(),
                score_progress = CASE WHEN $2 = 'PENDING' THEN 0 ELSE score_progress END
          WHERE id = $1 AND score_status = 'RUNNING' RETURNING score_progress`,
        [jobId, status, failure.message],
      );
      if (updated)
        await this.scoreEvent(manager, jobId, {
          status,
          progress: updated.score_progress,
          error: failure.message,
        });
      return updated !== undefined;
    });
  }

  /**
   * A part's failure in one transaction: `write` makes the part's guarded write and event (false
   * for a stale attempt, which changes nothing more); a final failure then fails the job.
   */
  private async partFailed(
    jobId: string,
    failure: PartFailure,
    part: string,
    write: (manager: EntityManager, status: PartStatus) => Promise<boolean>,
  ): Promise<boolean> {
    return await this.transaction(async (manager) => {
      if (!(await write(manager, failure.final ? "FAILED" : "PENDING"))) return false;
      if (failure.final)
        await this.deps.jobs.fail(jobId, failure.code, `${part}: ${failure.message}`, manager);
      return true;
    });
  }

  /** After a part's success: the fan-in when it was stored; else what it made is released. */
  private async settleSuccess(jobId: string, stored: boolean, made: string): Promise<boolean> {
    if (stored) await this.deps.jobs.beginAssembly(jobId);
    else await releaseMedia(this.deps.dataSource, [made]);
    return stored;
  }

  private async sceneEvent(manager: EntityManager, jobId: string, scene: SceneState): Promise<void> {
    await appendJobEvent(manager, jobId, { type: "SCENE_UPDATED", scene });
  }

  private async scoreEvent(manager: EntityManager, jobId: string, score: ScoreState): Promise<void> {
    await appendJobEvent(manager, jobId, { type: "JOB_UPDATED", score });
  }

  private async transaction<T>(run: (manager: EntityManager) => Promise<T>): Promise<T> {
    return await this.deps.dataSource.transaction(run);
  }
}
