import type { DataSource, EntityManager } from "typeorm";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import {
  type CostItemColumns,
  TERMINAL_JOB_STATUSES,
  type VideoJobOptions,
} from "../db/entities/video-job.entity.js";
import type { CameraMove } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import { announceCancellation } from "../events/job-cancellations.js";
import { PHASE_PROGRESS } from "../events/job-event.types.js";
import { appendJobEvent } from "../events/job-events.js";
import type { Logger } from "../logger.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import type { ScenePick } from "../providers/types.js";
import type { WebhookOutbox } from "../webhooks/webhook-outbox.js";
import { ADMITTED_STAGE, type JobGate, WAITING_FOR_SLOT_STAGE } from "./job-admission.service.js";
import type { PartFailure } from "./job-part.state-machine.js";
import type { JobQueue } from "./job-queue.js";
import type { JobMetrics } from "./metrics.service.js";
import { recordVideoCompleted } from "./usage.service.js";
import { guardedUpdate, recordActualCost, releaseMedia, updateRenderProgress } from "./video-job.writes.js";
import { completeBatchOf } from "./video-job-batch.writes.js";

export interface NewVideoJob {
  tenantId: string;
  campaignId: string;
  options: VideoJobOptions;
  inputHash: string;
  estimatedCost: CostItemColumns[];
}

export interface StoredPlan {
  picks: ScenePick[];
  /** The selector's actual charge, when it has one. */
  costUsd?: number;
  note?: string | null;
}

export interface FinishedAssembly {
  videoMediaId: string;
  posterMediaId: string;
  durationSeconds: number;
  width: number;
  height: number;
  byteSize: number;
  /** Listing videos: the MLS-safe cut and each cut's WebVTT track. */
  unbrandedVideoMediaId?: string | null;
  captionsMediaId?: string | null;
  unbrandedCaptionsMediaId?: string | null;
  /** The disclosure label the video showed; null when no scene came from a generative model. */
  aiDisclosure?: string | null;
}

/** The media a finished job holds that a re-assembly replaces. */
const FINISHED_MEDIA_COLUMNS = [
  "video_media_id",
  "poster_media_id",
  "unbranded_video_media_id",
  "captions_media_id",
  "unbranded_captions_media_id",
] as const;

const finishedMediaIds = (result: FinishedAssembly): string[] =>
  [
    result.videoMediaId,
    result.posterMediaId,
    result.unbrandedVideoMediaId,
    result.captionsMediaId,
    result.unbrandedCaptionsMediaId,
  ].filter((id): id is string => !!id);

export interface SceneChange {
  firstAssetId?: string | null;
  lastAssetId?: string | null;
  cameraMove?: CameraMove | null;
}

/**
 * The video job's state machine: one method per transition (its scenes and score have theirs in
 * `JobPartStateMachine`). Each is one transaction with a guarded UPDATE (the status it moves
 * from, an assembly generation), so a stale or superseded worker changes nothing, and appends
 * the event that describes it in the same transaction. Transitions that hand work on
 * (create → plan, plan → scenes and score, last part → assembly, retry → scenes) enqueue it once
 * their transaction has committed.
 *
 * ```
 * QUEUED ─startPlanning→ PLANNING ─storePlan→ RENDERING ─beginAssembly→ ASSEMBLING ─finish→ SUCCEEDED
 * any unfinished status ─cancel→ CANCELLED | ─fail→ FAILED;   SUCCEEDED | FAILED ─retryScene→ RENDERING
 * ```
 * A new job passes the `gate` (its tenant's quotas and slots, `JobAdmission`): it is planned at
 * once when its tenant has a free slot, else it stays QUEUED (`waiting_for_slot`) until admitted.
 */
export class VideoJobStateMachine {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      queue: JobQueue;
      logger: Logger;
      outbox: WebhookOutbox;
      /** Quotas and tenant slots; without one every job starts at once. */
      gate?: JobGate;
      /** Counts jobs created and ended in this process (`/metrics`). */
      metrics?: JobMetrics;
    },
  ) {}

  async load(jobId: string): Promise<VideoJobEntity | null> {
    return await this.deps.dataSource.getRepository(VideoJobEntity).findOne({ where: { id: jobId } });
  }

  async scenes(jobId: string): Promise<SceneEntity[]> {
    return await this.deps.dataSource
      .getRepository(SceneEntity)
      .find({ where: { jobId }, order: { index: "ASC" } });
  }

  /** A QUEUED job; the same idempotency key returns the job it made (CONFLICT for another input). */
  async create(input: NewVideoJob, idempotencyKey: string | null): Promise<VideoJobEntity> {
    const { job, created } = await this.transaction(async (manager) => {
      const repository = manager.getRepository(VideoJobEntity);
      if (idempotencyKey) {
        await manager.query("SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))", [
          input.tenantId,
          idempotencyKey,
        ]);
        const existing = await repository.findOne({ where: { tenantId: input.tenantId, idempotencyKey } });
        if (existing) {
          if (existing.inputHash !== input.inputHash)
            throw new AppError("CONFLICT", "This idempotency key was used with a different input");
          return { job: existing, created: false };
        }
      }
      return { job: await this.insertQueued(manager, input, idempotencyKey), created: true };
    });
    if (created) this.deps.metrics?.jobCreated();
    if (created && job.admittedAt) await this.deps.queue.planVideo(job.id);
    return job;
  }

  /**
   * A QUEUED job and its CREATED event in the caller's transaction (a batch creates all of its
   * jobs in one); the caller enqueues the plan of an admitted job (`admittedAt` set) once that has
   * committed, the others wait for a tenant slot.
   */
  async insertQueued(
    manager: EntityManager,
    input: NewVideoJob,
    idempotencyKey: string | null = null,
  ): Promise<VideoJobEntity> {
    const repository = manager.getRepository(VideoJobEntity);
    // The tenant's quotas and job slots: an admitted job is planned at once, the others wait.
    const { admitted } = (await this.deps.gate?.enter(manager, input.tenantId)) ?? { admitted: true };
    const saved = await repository.save(
      repository.create({
        ...input,
        status: "QUEUED",
        stage: admitted ? ADMITTED_STAGE : WAITING_FOR_SLOT_STAGE,
        admittedAt: admitted ? new Date() : null,
        idempotencyKey,
        cost: [],
      }),
    );
    await appendJobEvent(manager, saved.id, { type: "CREATED" });
    return saved;
  }

  /** QUEUED → PLANNING. False when the job was past QUEUED already. */
  async startPlanning(jobId: string): Promise<boolean> {
    return await this.transaction(async (manager) => {
      const moved = await guardedUpdate(
        manager,
        `UPDATE video_job SET status = 'PLANNING', stage = 'selecting', progress = $2,
                started_at = COALESCE(started_at, now()), updated_at = now()
          WHERE id = $1 AND status = 'QUEUED' RETURNING id`,
        [jobId, PHASE_PROGRESS.PLANNING],
      );
      if (moved) await appendJobEvent(manager, jobId, { type: "JOB_UPDATED" });
      return moved !== undefined;
    });
  }

  /** PLANNING → RENDERING with the scenes the selector picked (and its charge). */
  async storePlan(jobId: string, plan: StoredPlan): Promise<boolean> {
    return await this.transaction(async (manager) => {
      const moved = await guardedUpdate<{ tenant_id: string; video_provider: string }>(
        manager,
        `UPDATE video_job SET status = 'RENDERING', stage = 'rendering', progress = $2, updated_at = now()
          WHERE id = $1 AND status = 'PLANNING' RETURNING tenant_id, options->>'videoProvider' AS video_provider`,
        [jobId, PHASE_PROGRESS.RENDERING],
      );
      if (!moved) return false;
      const scenes = manager.getRepository(SceneEntity);
      for (const pick of plan.picks) {
        await scenes
          .createQueryBuilder()
          .insert()
          .values({
            jobId,
            tenantId: moved.tenant_id,
            index: pick.index,
            sceneType: pick.sceneType,
            firstAssetId: pick.firstAssetId,
            lastAssetId: pick.lastAssetId,
            cameraMove: pick.cameraMove,
            prompt: pick.prompt,
            provider: moved.video_provider,
            confidence: pick.confidence,
            reasoning: pick.reasoning,
            status: "PENDING",
          })
          .orIgnore()
          .execute();
      }
      await appendJobEvent(manager, jobId, {
        type: "JOB_UPDATED",
        plannedScenes: plan.picks.length,
        selectorNote: plan.note ?? null,
      });
      if (plan.costUsd) await recordActualCost(manager, jobId, "SELECTION", null, plan.costUsd);
      return true;
    });
  }

  /** Enqueues every scene not yet rendered and the score if it has not started (idempotent). */
  async fanOut(jobId: string): Promise<void> {
    const pending: { index: number }[] = await this.deps.dataSource.query(
      "SELECT index FROM scene WHERE job_id = $1 AND status = 'PENDING' ORDER BY index",
      [jobId],
    );
    for (const scene of pending) await this.deps.queue.renderScene(jobId, scene.index);
    const [job] = await this.deps.dataSource.query("SELECT score_status FROM video_job WHERE id = $1", [
      jobId,
    ]);
    if (job?.score_status === "PENDING") await this.deps.queue.composeScore(jobId);
  }

  /**
   * The fan-in: RENDERING → ASSEMBLING once every scene and the score succeeded, bumping the
   * assembly generation. Every finisher calls it; the row lock lets exactly one of them move
   * the job, and only that one enqueues the assembly. Returns the generation it started.
   */
  async beginAssembly(jobId: string): Promise<number | null> {
    const generation = await this.transaction(async (manager) => {
      const moved = await guardedUpdate<{ assembly_generation: number }>(
        manager,
        `UPDATE video_job SET status = 'ASSEMBLING', stage = 'assembling', progress = $2,
                assembly_generation = assembly_generation + 1, updated_at = now()
          WHERE id = $1 AND status = 'RENDERING' AND score_status = 'SUCCEEDED'
            AND EXISTS (SELECT 1 FROM scene WHERE job_id = $1)
            AND NOT EXISTS (SELECT 1 FROM scene WHERE job_id = $1 AND status <> 'SUCCEEDED')
          RETURNING assembly_generation`,
        [jobId, PHASE_PROGRESS.ASSEMBLING],
      );
      if (!moved) return null;
      await appendJobEvent(manager, jobId, { type: "JOB_UPDATED" });
      return moved.assembly_generation;
    });
    if (generation !== null) await this.deps.queue.assembleVideo(jobId, generation);
    return generation;
  }

  /**
   * ASSEMBLING: the listing video's stage "composing" (outros rendered per cut, captions) while
   * this generation's assembly runs; a JOB_UPDATED event says so. False when superseded.
   */
  async composingCuts(jobId: string, generation: number): Promise<boolean> {
    return await this.transaction(async (manager) => {
      const updated = await guardedUpdate(
        manager,
        `UPDATE video_job SET stage = 'composing', updated_at = now()
          WHERE id = $1 AND status = 'ASSEMBLING' AND assembly_generation = $2 RETURNING id`,
        [jobId, generation],
      );
      if (!updated) return false;
      await appendJobEvent(manager, jobId, { type: "JOB_UPDATED" });
      return true;
    });
  }

  /**
   * ASSEMBLING (this generation) → SUCCEEDED with the video. A re-assembly releases the earlier
   * video and poster in the same transaction; a superseded or cancelled assembly keeps nothing.
   */
  async finish(jobId: string, generation: number, result: FinishedAssembly): Promise<boolean> {
    const kept = finishedMediaIds(result);
    const finished = await this.transaction(async (manager) => {
      const [previous] = await manager.query(
        `SELECT ${FINISHED_MEDIA_COLUMNS.join(", ")} FROM video_job WHERE id = $1 FOR UPDATE`,
        [jobId],
      );
      const updated = await guardedUpdate<{ seconds: number }>(
        manager,
        `UPDATE video_job SET status = 'SUCCEEDED', stage = 'done', progress = $8, video_media_id = $3,
                poster_media_id = $4, audio_media_id = score_media_id, duration_seconds = $5, width = $6, height = $7,
                unbranded_video_media_id = $9, captions_media_id = $10, unbranded_captions_media_id = $11,
                ai_disclosure = $12,
                cost = CASE WHEN jsonb_array_length(cost) > 0 THEN cost ELSE estimated_cost END,
                finished_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'ASSEMBLING' AND assembly_generation = $2
          RETURNING extract(epoch FROM finished_at - created_at)::float8 AS seconds`,
        [
          jobId,
          generation,
          result.videoMediaId,
          result.posterMediaId,
          result.durationSeconds,
          result.width,
          result.height,
          PHASE_PROGRESS.SUCCEEDED,
          result.unbrandedVideoMediaId ?? null,
          result.captionsMediaId ?? null,
          result.unbrandedCaptionsMediaId ?? null,
          result.aiDisclosure ?? null,
        ],
      );
      if (!updated) return null;
      await recordVideoCompleted(manager, jobId, result.durationSeconds);
      await appendJobEvent(manager, jobId, {
        type: "COMPLETED",
        video: {
          mediaId: result.videoMediaId,
          durationSeconds: result.durationSeconds,
          width: result.width,
          height: result.height,
          byteSize: result.byteSize,
        },
      });
      const replaced = FINISHED_MEDIA_COLUMNS.map((column) => previous?.[column] as string | null).filter(
        (id): id is string => !!id && !kept.includes(id),
      );
      await deleteUnreferencedMedia(manager, replaced);
      await this.ended(manager, jobId);
      return updated;
    });
    if (!finished) await releaseMedia(this.deps.dataSource, kept);
    else {
      this.deps.metrics?.jobEnded("SUCCEEDED", finished.seconds);
      // After the commit, outside it: the renditions never hold up SUCCEEDED (each cut gets its
      // own ladder). A crash right here leaves a video without renditions: it plays as MP4.
      for (const mediaId of [result.videoMediaId, result.unbrandedVideoMediaId]) {
        if (!mediaId) continue;
        await this.deps.queue.renderRenditions(jobId, mediaId).catch((error: unknown) => {
          this.deps.logger.warn({ jobId, err: error }, "could not enqueue the renditions");
        });
      }
    }
    return finished !== null;
  }

  /** The ladder of the job's current video is stored: one event, unless the video was replaced. */
  async renditionsReady(jobId: string, mediaId: string, labels: string[]): Promise<boolean> {
    return await this.transaction(async (manager) => {
      const [current] = await manager.query(
        "SELECT 1 FROM video_job WHERE id = $1 AND (video_media_id = $2 OR unbranded_video_media_id = $2) FOR UPDATE",
        [jobId, mediaId],
      );
      if (!current) return false;
      await appendJobEvent(manager, jobId, { type: "RENDITIONS_READY", renditions: { mediaId, labels } });
      return true;
    });
  }

  /** Any unfinished status → CANCELLED, with its running and pending parts; running renders notice within a tick. */
  async cancel(jobId: string): Promise<boolean> {
    const cancelled = await this.transaction(async (manager) => {
      // Row locks in the order every scene transition takes them (its scene, then the job, for
      // its event): the unfinished scenes first, by index, then the job. Locking the job first
      // deadlocked with a progress report holding its scene and waiting for the job.
      await manager.query(
        `SELECT id FROM scene WHERE job_id = $1 AND status IN ('PENDING', 'RUNNING') ORDER BY index FOR UPDATE`,
        [jobId],
      );
      const cancelled = await guardedUpdate(
        manager,
        `UPDATE video_job SET status = 'CANCELLED', stage = 'cancelled', cancel_requested_at = now(),
                score_status = CASE WHEN score_status IN ('PENDING', 'RUNNING') THEN 'CANCELLED' ELSE score_status END,
                finished_at = now(), updated_at = now()
          WHERE id = $1 AND NOT status = ANY($2) RETURNING id`,
        [jobId, TERMINAL_JOB_STATUSES],
      );
      if (!cancelled) return false;
      await manager.query(
        `UPDATE scene SET status = 'CANCELLED', updated_at = now() WHERE job_id = $1 AND status IN ('PENDING', 'RUNNING')`,
        [jobId],
      );
      await appendJobEvent(manager, jobId, { type: "CANCELLED" });
      await announceCancellation(manager, jobId);
      await this.ended(manager, jobId);
      return true;
    });
    if (cancelled) this.deps.metrics?.jobEnded("CANCELLED");
    return cancelled;
  }

  /** Any unfinished status → FAILED with a reason (in the caller's transaction when given one). */
  async fail(jobId: string, code: string, message: string, manager?: EntityManager): Promise<boolean> {
    const run = async (db: EntityManager) => {
      const failed = await guardedUpdate(
        db,
        `UPDATE video_job SET status = 'FAILED', stage = 'failed', error_code = $2, error = $3,
                finished_at = now(), updated_at = now()
          WHERE id = $1 AND NOT status = ANY($4) RETURNING id`,
        [jobId, code, message, TERMINAL_JOB_STATUSES],
      );
      if (failed) {
        await appendJobEvent(db, jobId, { type: "FAILED", error: { code, message } });
        await this.ended(db, jobId);
      }
      return failed !== undefined;
    };
    const failed = manager ? await run(manager) : await this.transaction(run);
    if (failed) this.deps.logger.warn({ jobId, code, message }, "video job failed");
    // In a caller's transaction this counts before its commit: a rollback after a failed
    // guarded UPDATE is not a path the callers take.
    if (failed) this.deps.metrics?.jobEnded("FAILED");
    return failed;
  }

  /** A job-level step's (plan, assembly) failure transition: a final one fails the job. */
  async stepFailed(jobId: string, failure: PartFailure, step?: string): Promise<boolean> {
    if (!failure.final) return false;
    return await this.fail(jobId, failure.code, step ? `${step}: ${failure.message}` : failure.message);
  }

  /**
   * SUCCEEDED|FAILED → RENDERING: one scene again (optionally another pair or move), and every
   * other scene that did not succeed; the fan-in then re-assembles.
   */
  async retryScene(jobId: string, index: number, change: SceneChange): Promise<void> {
    await this.transaction(async (manager) => {
      const scene = await manager
        .getRepository(SceneEntity)
        .findOne({ where: { jobId, index }, lock: { mode: "pessimistic_write" } });
      if (!scene) throw new AppError("NOT_FOUND", "Scene not found");
      const reopened = await guardedUpdate(
        manager,
        `UPDATE video_job SET status = 'RENDERING', stage = 'rendering', error = NULL, error_code = NULL,
                finished_at = NULL, updated_at = now()
          WHERE id = $1 AND status IN ('SUCCEEDED', 'FAILED') RETURNING id`,
        [jobId],
      );
      if (!reopened) throw new AppError("CONFLICT", "The job changed meanwhile; try again");
      await manager.query(
        `UPDATE scene SET status = 'PENDING', progress = 0, error = NULL, error_code = NULL, attempt_token = NULL,
                provider_ref = NULL, first_asset_id = COALESCE($3, first_asset_id), last_asset_id = COALESCE($4, last_asset_id),
                camera_move = COALESCE($5, camera_move), updated_at = now()
          WHERE job_id = $1 AND index = $2`,
        [jobId, index, change.firstAssetId ?? null, change.lastAssetId ?? null, change.cameraMove ?? null],
      );
      // Other scenes that failed are rendered again too: the job cannot assemble without them.
      await manager.query(
        `UPDATE scene SET status = 'PENDING', progress = 0, error = NULL, error_code = NULL, attempt_token = NULL
          WHERE job_id = $1 AND status IN ('FAILED', 'CANCELLED')`,
        [jobId],
      );
      await updateRenderProgress(manager, jobId);
      await appendJobEvent(manager, jobId, { type: "JOB_UPDATED", retriedScene: index });
    });
    await this.fanOut(jobId);
  }

  /**
   * What every final transition also writes, in its transaction (an outbox: nothing is sent for
   * a rolled-back change, nothing lost once it commits): the partner webhook, and the batch's
   * completion when this was the last of its jobs to end.
   */
  private async ended(manager: EntityManager, jobId: string): Promise<void> {
    await this.deps.outbox.jobEnded(manager, jobId);
    const batch = await completeBatchOf(manager, jobId);
    if (batch) await this.deps.outbox.batchCompleted(manager, batch);
  }

  private async transaction<T>(run: (manager: EntityManager) => Promise<T>): Promise<T> {
    return await this.deps.dataSource.transaction(run);
  }
}
