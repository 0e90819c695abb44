import { createHash, randomBytes } from "node:crypto";
import type { PgBoss } from "pg-boss";
import type { DataSource, EntityManager } from "typeorm";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import type { CostItemColumns, VideoJobOptions } from "../db/entities/video-job.entity.js";
import { returnedRows } from "../db/sql.js";
import { AppError } from "../errors.js";
import { appendJobEvent } from "../events/job-events.js";
import { enqueue } from "../jobs/queues.js";
import type { Logger } from "../logger.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import type { ProviderRegistry } from "../providers/registry.js";
import {
  ASPECT_RATIOS,
  type AspectRatio,
  CAMERA_MOVES,
  type CameraMove,
  MUSIC_MOODS,
  type MusicMood,
} from "../providers/types.js";
import type { CampaignService } from "./campaign.service.js";
import { isUuid } from "./pagination.js";

export interface CreateVideoJobInput {
  campaignId: string;
  sceneCount?: number | null;
  secondsPerScene?: number | null;
  aspectRatio?: AspectRatio | null;
  mood?: MusicMood | null;
  selector?: string | null;
  videoProvider?: string | null;
  musicProvider?: string | null;
}

export const DEFAULT_PROVIDERS = {
  selector: "heuristic",
  videoProvider: "local",
  musicProvider: "local",
} as const;

/** Normalises and validates the request; the idempotency fingerprint is taken over the result. */
export function normaliseOptions(input: CreateVideoJobInput, campaignMood: string | null): VideoJobOptions {
  const options: VideoJobOptions = {
    sceneCount: input.sceneCount ?? 7,
    secondsPerScene: input.secondsPerScene ?? 4,
    aspectRatio: input.aspectRatio ?? "LANDSCAPE_16_9",
    mood: input.mood ?? (campaignMood as MusicMood | null) ?? "LUXURY",
    selector: input.selector ?? DEFAULT_PROVIDERS.selector,
    videoProvider: input.videoProvider ?? DEFAULT_PROVIDERS.videoProvider,
    musicProvider: input.musicProvider ?? DEFAULT_PROVIDERS.musicProvider,
  };
  if (!Number.isInteger(options.sceneCount) || options.sceneCount < 1 || options.sceneCount > 12) {
    throw new AppError("BAD_USER_INPUT", "sceneCount must be between 1 and 12");
  }
  if (
    !(options.secondsPerScene >= 2 && options.secondsPerScene <= 10) ||
    !Number.isInteger(options.secondsPerScene * 2)
  ) {
    throw new AppError("BAD_USER_INPUT", "secondsPerScene must be between 2 and 10, in steps of 0.5");
  }
  if (!ASPECT_RATIOS.includes(options.aspectRatio as AspectRatio))
    throw new AppError("BAD_USER_INPUT", "unknown aspectRatio");
  if (!MUSIC_MOODS.includes(options.mood as MusicMood)) throw new AppError("BAD_USER_INPUT", "unknown mood");
  return options;
}

export function inputHash(campaignId: string, options: VideoJobOptions): string {
  const canonical = JSON.stringify([
    campaignId,
    ...Object.entries(options).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** The itemised cost of a job before it runs: one line per clip, one for the score, one for selection. */
export function estimateItems(options: VideoJobOptions, providers: ProviderRegistry): CostItemColumns[] {
  const video = providers.videoEntry(options.videoProvider);
  const music = providers.musicEntry(options.musicProvider);
  const selector = providers.selectorEntry(options.selector);
  const items: CostItemColumns[] = [];
  for (let index = 0; index < options.sceneCount; index++) {
    // Models bill their own allowed durations (e.g. 6 s for a 4 s scene, trimmed): show that.
    const units =
      video.price.unit === "second"
        ? (video.price.billedSeconds?.(options.secondsPerScene) ?? options.secondsPerScene)
        : 1;
    items.push(item("VIDEO", index, video.name, units, video.price.unit, video.price.unitPriceUsd));
  }
  const total = options.sceneCount * options.secondsPerScene;
  items.push(
    item(
      "MUSIC",
      null,
      music.name,
      music.price.unit === "second" ? total : 1,
      music.price.unit,
      music.price.unitPriceUsd,
    ),
  );
  items.push(item("SELECTION", null, selector.name, 1, selector.price.unit, selector.price.unitPriceUsd));
  return items;
}

function item(
  kind: string,
  sceneIndex: number | null,
  provider: string,
  units: number,
  unit: string,
  unitPriceUsd: number,
): CostItemColumns {
  return {
    kind,
    sceneIndex,
    provider,
    units,
    unit,
    unitPriceUsd,
    usd: Math.round(units * unitPriceUsd * 10_000) / 10_000,
  };
}

/**
 * The video job's state machine. Every transition is one guarded UPDATE (so a stale worker's
 * write changes nothing) plus a job_event in the same transaction.
 */
export class VideoPipelineService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      boss: PgBoss;
      logger: Logger;
      campaigns: CampaignService;
      providers: ProviderRegistry;
    },
  ) {}

  get providers(): ProviderRegistry {
    return this.deps.providers;
  }

  async estimate(tenantId: string, input: CreateVideoJobInput): Promise<CostItemColumns[]> {
    const campaign = await this.deps.campaigns.require(tenantId, input.campaignId);
    return estimateItems(normaliseOptions(input, campaign.musicMood), this.deps.providers);
  }

  /** Creates a QUEUED job and enqueues its plan; the same idempotency key and input give the same job. */
  async create(
    tenantId: string,
    input: CreateVideoJobInput,
    idempotencyKey?: string | null,
  ): Promise<VideoJobEntity> {
    const campaign = await this.deps.campaigns.require(tenantId, input.campaignId);
    const options = normaliseOptions(input, campaign.musicMood);
    const estimated = estimateItems(options, this.deps.providers);
    const hash = inputHash(campaign.id, options);
    if (
      idempotencyKey !== undefined &&
      idempotencyKey !== null &&
      (idempotencyKey.length < 1 || idempotencyKey.length > 200)
    ) {
      throw new AppError("BAD_USER_INPUT", "idempotencyKey must be 1 to 200 characters");
    }
    const { job, created } = await this.deps.dataSource.transaction(async (manager) => {
      if (idempotencyKey) {
        await manager.query("SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))", [
          tenantId,
          idempotencyKey,
        ]);
        const existing = await manager
          .getRepository(VideoJobEntity)
          .findOne({ where: { tenantId, idempotencyKey } });
        if (existing) {
          if (existing.inputHash !== hash) {
            throw new AppError("CONFLICT", "This idempotency key was used with a different input");
          }
          return { job: existing, created: false };
        }
      }
      const repository = manager.getRepository(VideoJobEntity);
      const saved = await repository.save(
        repository.create({
          tenantId,
          campaignId: campaign.id,
          status: "QUEUED",
          stage: "queued",
          options,
          idempotencyKey: idempotencyKey ?? null,
          inputHash: hash,
          estimatedCost: estimated,
          cost: [],
        }),
      );
      await appendJobEvent(manager, saved.id, "CREATED", { status: "QUEUED" });
      return { job: saved, created: true };
    });
    if (created) await enqueue(this.deps.boss, "video.plan", { jobId: job.id }, { singletonKey: job.id });
    return job;
  }

  async requireJob(tenantId: string, jobId: string): Promise<VideoJobEntity> {
    const job = isUuid(jobId)
      ? await this.deps.dataSource.getRepository(VideoJobEntity).findOne({ where: { tenantId, id: jobId } })
      : null;
    if (!job) throw new AppError("NOT_FOUND", "Video job not found");
    return job;
  }

  /** Cancels a job that has not finished; running renders notice within a progress tick. */
  async cancel(tenantId: string, jobId: string): Promise<VideoJobEntity> {
    await this.requireJob(tenantId, jobId);
    await this.deps.dataSource.transaction(async (manager) => {
      const updated = returnedRows(
        await manager.query(
          `UPDATE video_job SET status = 'CANCELLED', stage = 'cancelled', cancel_requested_at = now(), finished_at = now(), updated_at = now()
            WHERE id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') RETURNING id`,
          [jobId],
        ),
      );
      if (updated.length === 0) return;
      await manager.query(
        `UPDATE scene SET status = 'CANCELLED', updated_at = now() WHERE job_id = $1 AND status IN ('PENDING', 'RUNNING')`,
        [jobId],
      );
      await manager.query(
        `UPDATE video_job SET score_status = 'CANCELLED' WHERE id = $1 AND score_status IN ('PENDING', 'RUNNING')`,
        [jobId],
      );
      await appendJobEvent(manager, jobId, "CANCELLED", { status: "CANCELLED" });
    });
    return await this.requireJob(tenantId, jobId);
  }

  /** Re-renders one scene of a finished job (optionally with another pair or move), then re-assembles. */
  async retryScene(
    tenantId: string,
    jobId: string,
    index: number,
    change: { firstAssetId?: string | null; lastAssetId?: string | null; cameraMove?: CameraMove | null },
  ): Promise<VideoJobEntity> {
    const job = await this.requireJob(tenantId, jobId);
    if (job.status !== "SUCCEEDED" && job.status !== "FAILED") {
      throw new AppError("CONFLICT", "A scene can be re-rendered once the job has finished");
    }
    if (change.cameraMove && !CAMERA_MOVES.includes(change.cameraMove))
      throw new AppError("BAD_USER_INPUT", "unknown cameraMove");
    for (const assetId of [change.firstAssetId, change.lastAssetId]) {
      if (!assetId) continue;
      const rows: unknown[] = await this.deps.dataSource.query(
        "SELECT 1 FROM asset WHERE id = $1 AND campaign_id = $2 AND tenant_id = $3 AND status = 'READY'",
        [isUuid(assetId) ? assetId : "00000000-0000-0000-0000-000000000000", job.campaignId, tenantId],
      );
      if (rows.length === 0)
        throw new AppError("BAD_USER_INPUT", "The photo must be a READY photo of this campaign");
    }
    if (job.scoreStatus !== "SUCCEEDED")
      throw new AppError("CONFLICT", "The job has no score to re-assemble with; create a new job");
    await this.deps.dataSource.transaction(async (manager) => {
      const scene = await manager
        .getRepository(SceneEntity)
        .findOne({ where: { jobId, index }, lock: { mode: "pessimistic_write" } });
      if (!scene) throw new AppError("NOT_FOUND", "Scene not found");
      const updated = returnedRows(
        await manager.query(
          `UPDATE video_job SET status = 'RENDERING', stage = 'rendering', error = NULL, error_code = NULL, finished_at = NULL, updated_at = now()
            WHERE id = $1 AND status IN ('SUCCEEDED', 'FAILED') RETURNING id`,
          [jobId],
        ),
      );
      if (updated.length === 0) throw new AppError("CONFLICT", "The job changed meanwhile; try again");
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
      await appendJobEvent(manager, jobId, "JOB_UPDATED", {
        status: "RENDERING",
        stage: "rendering",
        retriedScene: index,
      });
    });
    const pending: { index: number }[] = await this.deps.dataSource.query(
      "SELECT index FROM scene WHERE job_id = $1 AND status = 'PENDING' ORDER BY index",
      [jobId],
    );
    for (const scene of pending) await this.enqueueScene(jobId, scene.index);
    return await this.requireJob(tenantId, jobId);
  }

  async enqueueScene(jobId: string, index: number): Promise<void> {
    await enqueue(
      this.deps.boss,
      "video.scene",
      { jobId, index },
      { singletonKey: `${jobId}:${index}:${randomBytes(4).toString("hex")}` },
    );
  }

  /**
   * Fan-in: called by every scene and by the score when they finish. The job row lock makes
   * exactly one caller see "all done" and move RENDERING → ASSEMBLING; only it enqueues assembly.
   */
  async maybeAssemble(jobId: string): Promise<boolean> {
    const generation = await this.deps.dataSource.transaction(async (manager) => {
      const [job] = returnedRows<{ status: string; score_status: string; assembly_generation: number }>(
        await manager.query(
          "SELECT status, score_status, assembly_generation FROM video_job WHERE id = $1 FOR UPDATE",
          [jobId],
        ),
      );
      if (job?.status !== "RENDERING" || job.score_status !== "SUCCEEDED") return null;
      const [counts] = await manager.query(
        "SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS done FROM scene WHERE job_id = $1",
        [jobId],
      );
      if (counts.total === 0 || counts.done !== counts.total) return null;
      const next = job.assembly_generation + 1;
      await manager.query(
        "UPDATE video_job SET status = 'ASSEMBLING', stage = 'assembling', assembly_generation = $2, updated_at = now() WHERE id = $1",
        [jobId, next],
      );
      await appendJobEvent(manager, jobId, "JOB_UPDATED", { status: "ASSEMBLING", stage: "assembling" });
      return next;
    });
    if (generation === null) return false;
    await enqueue(
      this.deps.boss,
      "video.assemble",
      { jobId, generation },
      { singletonKey: `${jobId}:${generation}` },
    );
    return true;
  }

  /** Ends the job FAILED with a reason (unless it already ended). */
  async failJob(jobId: string, code: string, message: string, manager?: EntityManager): Promise<void> {
    const run = async (db: EntityManager) => {
      const updated = returnedRows(
        await db.query(
          `UPDATE video_job SET status = 'FAILED', stage = 'failed', error_code = $2, error = $3, finished_at = now(), updated_at = now()
            WHERE id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') RETURNING id`,
          [jobId, code, message],
        ),
      );
      if (updated.length > 0)
        await appendJobEvent(db, jobId, "FAILED", { status: "FAILED", errorCode: code, error: message });
    };
    if (manager) await run(manager);
    else await this.deps.dataSource.transaction(run);
    this.deps.logger.warn({ jobId, code, message }, "video job failed");
  }

  /**
   * Replaces one estimated line of the job's cost (a scene's VIDEO item, or the MUSIC item when
   * `sceneIndex` is null) with the provider's actual charge.
   */
  async recordActualCost(
    manager: EntityManager,
    jobId: string,
    kind: "VIDEO" | "MUSIC",
    sceneIndex: number | null,
    usd: number,
  ): Promise<void> {
    await manager.query(
      `UPDATE video_job SET cost = (
          SELECT COALESCE(jsonb_agg(CASE WHEN item->>'kind' = $2 AND (item->>'sceneIndex')::int IS NOT DISTINCT FROM $3::int
                                    THEN item || jsonb_build_object('usd', $4::numeric, 'actual', true) ELSE item END ORDER BY ord), '[]'::jsonb)
            FROM jsonb_array_elements(CASE WHEN jsonb_array_length(cost) > 0 THEN cost ELSE estimated_cost END) WITH ORDINALITY AS t(item, ord))
        WHERE id = $1`,
      [jobId, kind, sceneIndex, usd],
    );
  }

  /** Media ids a job stops using when it is re-assembled; released if nothing else uses them. */
  async releaseMedia(ids: (string | null)[]): Promise<void> {
    const present = ids.filter((id): id is string => id !== null);
    if (present.length === 0) return;
    await this.deps.dataSource.transaction((manager) => deleteUnreferencedMedia(manager, present));
  }
}
