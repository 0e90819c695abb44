import { createHash } from "node:crypto";
import type { DataSource } from "typeorm";
import type { CampaignEntity } from "../db/entities/index.js";
import { VideoJobEntity } from "../db/entities/index.js";
import type { CostItemColumns, VideoJobOptions } from "../db/entities/video-job.entity.js";
import { isUuid } from "../domain/ids.js";
import {
  ASPECT_RATIOS,
  type AspectRatio,
  CAMERA_MOVES,
  MUSIC_MOODS,
  type MusicMood,
} from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import { videoSecondsOf } from "../jobs/listing-overlays.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { VIDEO_TEMPLATES, type VideoTemplate } from "../render/listing-format.js";
import type { CampaignService } from "./campaign.service.js";
import type { NewVideoJob, SceneChange, VideoJobStateMachine } from "./video-job.state-machine.js";

export interface CreateVideoJobInput {
  campaignId: string;
  sceneCount?: number | null;
  secondsPerScene?: number | null;
  aspectRatio?: AspectRatio | null;
  mood?: MusicMood | null;
  selector?: string | null;
  videoProvider?: string | null;
  musicProvider?: string | null;
  template?: VideoTemplate | null;
  openHouse?: { startsAt: Date; endsAt: Date } | null;
  previousPrice?: number | null;
  captions?: boolean | null;
}

/** What of the campaign the options depend on. */
export type CampaignDefaults = Pick<CampaignEntity, "musicMood" | "timeZone" | "price">;

export const DEFAULT_PROVIDERS = {
  selector: "heuristic",
  videoProvider: "local",
  musicProvider: "local",
} as const;

/** Normalises and validates the request; the idempotency fingerprint is taken over the result. */
export function normaliseOptions(input: CreateVideoJobInput, campaign: CampaignDefaults): VideoJobOptions {
  const campaignMood = campaign.musicMood;
  const options: VideoJobOptions = {
    sceneCount: input.sceneCount ?? 7,
    secondsPerScene: input.secondsPerScene ?? 4,
    aspectRatio: input.aspectRatio ?? "LANDSCAPE_16_9",
    mood: input.mood ?? (campaignMood as MusicMood | null) ?? "LUXURY",
    selector: input.selector ?? DEFAULT_PROVIDERS.selector,
    videoProvider: input.videoProvider ?? DEFAULT_PROVIDERS.videoProvider,
    musicProvider: input.musicProvider ?? DEFAULT_PROVIDERS.musicProvider,
    overlays: true,
    ...templateOptions(input, campaign),
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

/**
 * The template and its inputs, checked against the campaign. Part of the options, so the
 * idempotency fingerprint covers them: the same key with another template is a CONFLICT.
 */
function templateOptions(
  input: CreateVideoJobInput,
  campaign: CampaignDefaults,
): Pick<VideoJobOptions, "template" | "captions" | "openHouse" | "previousPrice"> {
  const template = input.template ?? "JUST_LISTED";
  if (!VIDEO_TEMPLATES.includes(template)) throw new AppError("BAD_USER_INPUT", "unknown template");
  let openHouse: VideoJobOptions["openHouse"] = null;
  if (template === "OPEN_HOUSE") {
    const times = input.openHouse;
    if (!times) throw new AppError("BAD_USER_INPUT", "OPEN_HOUSE needs openHouse { startsAt endsAt }");
    if (!campaign.timeZone)
      throw new AppError("BAD_USER_INPUT", "OPEN_HOUSE needs the campaign's timeZone to show the times");
    if (!(times.endsAt.getTime() > times.startsAt.getTime()))
      throw new AppError("BAD_USER_INPUT", "openHouse.endsAt must be after startsAt");
    if (times.endsAt.getTime() - times.startsAt.getTime() > 24 * 3600_000)
      throw new AppError("BAD_USER_INPUT", "an open house lasts at most 24 hours");
    openHouse = { startsAt: times.startsAt.toISOString(), endsAt: times.endsAt.toISOString() };
  } else if (input.openHouse) {
    throw new AppError("BAD_USER_INPUT", "openHouse is only for the OPEN_HOUSE template");
  }
  let previousPrice: number | null = null;
  if (template === "PRICE_REDUCED") {
    const current = campaign.price === null ? null : Number(campaign.price);
    if (input.previousPrice == null || current === null)
      throw new AppError("BAD_USER_INPUT", "PRICE_REDUCED needs previousPrice and the campaign's price");
    if (!(input.previousPrice > current && input.previousPrice < 1e12))
      throw new AppError("BAD_USER_INPUT", "previousPrice must be above the campaign's price");
    previousPrice = Math.round(input.previousPrice);
  } else if (input.previousPrice != null) {
    throw new AppError("BAD_USER_INPUT", "previousPrice is only for the PRICE_REDUCED template");
  }
  return { template, captions: input.captions ?? true, openHouse, previousPrice };
}

export function inputHash(campaignId: string, options: VideoJobOptions): string {
  const canonical = JSON.stringify([
    campaignId,
    ...Object.entries(options).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** An idempotency key, when given, is 1 to 200 characters. */
export function checkIdempotencyKey(key: string | null | undefined): void {
  if (key !== undefined && key !== null && (key.length < 1 || key.length > 200)) {
    throw new AppError("BAD_USER_INPUT", "idempotencyKey must be 1 to 200 characters");
  }
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
  const total = videoSecondsOf(options);
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
 * What clients ask of video jobs: estimate, create, cancel, re-render a scene. Input is checked
 * here; the state changes themselves are the state machine's transitions.
 */
export class VideoPipelineService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      campaigns: CampaignService;
      providers: ProviderRegistry;
      jobs: VideoJobStateMachine;
    },
  ) {}

  async estimate(tenantId: string, input: CreateVideoJobInput): Promise<CostItemColumns[]> {
    const campaign = await this.deps.campaigns.require(tenantId, input.campaignId);
    return estimateItems(normaliseOptions(input, campaign), this.deps.providers);
  }

  /** Creates a QUEUED job and enqueues its plan; the same idempotency key and input give the same job. */
  async create(
    tenantId: string,
    input: CreateVideoJobInput,
    idempotencyKey?: string | null,
  ): Promise<VideoJobEntity> {
    const job = await this.prepare(tenantId, input);
    checkIdempotencyKey(idempotencyKey);
    return await this.deps.jobs.create(job, idempotencyKey ?? null);
  }

  /** Checks one request and turns it into the job to create (a batch checks every input first). */
  async prepare(tenantId: string, input: CreateVideoJobInput): Promise<NewVideoJob> {
    const campaign = await this.deps.campaigns.require(tenantId, input.campaignId);
    const options = normaliseOptions(input, campaign);
    return {
      tenantId,
      campaignId: campaign.id,
      options,
      inputHash: inputHash(campaign.id, options),
      estimatedCost: estimateItems(options, this.deps.providers),
    };
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
    await this.deps.jobs.cancel(jobId);
    return await this.requireJob(tenantId, jobId);
  }

  /** Re-renders one scene of a finished job (optionally with another pair or move), then re-assembles. */
  async retryScene(
    tenantId: string,
    jobId: string,
    index: number,
    change: SceneChange,
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
        "SELECT 1 FROM asset WHERE id = $1 AND campaign_id = $2 AND tenant_id = $3 AND status = 'READY' AND purpose = 'PHOTO'",
        [isUuid(assetId) ? assetId : "00000000-0000-0000-0000-000000000000", job.campaignId, tenantId],
      );
      if (rows.length === 0)
        throw new AppError("BAD_USER_INPUT", "The photo must be a READY photo of this campaign");
    }
    if (job.scoreStatus !== "SUCCEEDED")
      throw new AppError("CONFLICT", "The job has no score to re-assemble with; create a new job");
    await this.deps.jobs.retryScene(jobId, index, change);
    return await this.requireJob(tenantId, jobId);
  }
}
