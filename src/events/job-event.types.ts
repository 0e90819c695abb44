import type { JobStatus, PartStatus } from "../db/entities/video-job.entity.js";

/**
 * The job events, typed. Every event carries the job's status, stage and progress as of the
 * event (written by the transition that appended it), so no reader re-derives them; a scene
 * event also carries the scene's. `job_event.payload` holds the event without its `type`.
 */

export const JOB_EVENT_TYPES = [
  "CREATED",
  "JOB_UPDATED",
  "SCENE_UPDATED",
  "COST_UPDATED",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "RENDITIONS_READY",
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/** The events after which a job changes no more (until a scene is retried). */
export const TERMINAL_EVENT_TYPES: readonly JobEventType[] = ["COMPLETED", "FAILED", "CANCELLED"];

/** Lifecycle events a campaign dashboard cares about. */
export const CAMPAIGN_ACTIVITY_TYPES: readonly JobEventType[] = ["CREATED", ...TERMINAL_EVENT_TYPES];

export interface JobState {
  status: JobStatus;
  stage: string | null;
  /** 0 to 1. */
  progress: number;
}

export interface SceneState {
  index: number;
  status: PartStatus;
  progress: number;
  error: string | null;
}

export interface ScoreState {
  status: PartStatus;
  progress: number;
  error: string | null;
}

export type CostKind = "VIDEO" | "MUSIC" | "SELECTION";

export interface CostChange {
  kind: CostKind;
  /** The scene of a VIDEO item; null for MUSIC and SELECTION. */
  sceneIndex: number | null;
  /** The provider's actual charge for this item. */
  usd: number;
  /** The job's cost after the change. */
  totalUsd: number;
}

export interface FinishedVideo {
  mediaId: string;
  durationSeconds: number;
  width: number;
  height: number;
  byteSize: number;
}

/** What a transition appends; the job's state is added from the row in the same statement. */
export type JobEventBody =
  | { type: "CREATED" }
  | {
      type: "JOB_UPDATED";
      score?: ScoreState;
      /** Set when the plan is stored. */
      plannedScenes?: number;
      selectorNote?: string | null;
      /** Set when a finished job's scene is rendered again. */
      retriedScene?: number;
    }
  | { type: "SCENE_UPDATED"; scene: SceneState }
  | { type: "COST_UPDATED"; cost: CostChange }
  | { type: "COMPLETED"; video: FinishedVideo }
  | { type: "FAILED"; error: { code: string; message: string } }
  | { type: "CANCELLED" }
  /** After COMPLETED: the video's adaptive-streaming ladder is stored (`Video.renditions`, `hlsUrl`). */
  | { type: "RENDITIONS_READY"; renditions: { mediaId: string; labels: string[] } };

export type JobEvent = JobEventBody & { job: JobState };

/**
 * How far along a job is at the start of each status. Transitions write the job's progress with
 * these (scenes fill the span from RENDERING to ASSEMBLING as they succeed); an event written
 * before events carried progress reads as the start of its status.
 */
export const PHASE_PROGRESS: Record<JobStatus, number> = {
  QUEUED: 0,
  PLANNING: 0,
  RENDERING: 0.05,
  ASSEMBLING: 0.9,
  SUCCEEDED: 1,
  FAILED: 0,
  CANCELLED: 0,
};

/** The stage a status has when nothing finer is known. */
const STATUS_STAGE: Record<JobStatus, string> = {
  QUEUED: "queued",
  PLANNING: "selecting",
  RENDERING: "rendering",
  ASSEMBLING: "assembling",
  SUCCEEDED: "done",
  FAILED: "failed",
  CANCELLED: "cancelled",
};

/** The status an older event implies when its payload does not say. */
const LEGACY_STATUS: Record<JobEventType, JobStatus> = {
  CREATED: "QUEUED",
  JOB_UPDATED: "RENDERING",
  SCENE_UPDATED: "RENDERING",
  COST_UPDATED: "RENDERING",
  COMPLETED: "SUCCEEDED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
  RENDITIONS_READY: "SUCCEEDED",
};

type Payload = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const number = (value: unknown, fallback: number): number =>
  typeof value === "number" && Number.isFinite(value) ? value : fallback;

/**
 * A `job_event` row as a typed event. Rows written since events were typed carry `job` and are
 * taken as they are; older rows (status and stage only where they changed, no progress) are read
 * from their own payload and type alone, so an old log still streams sensibly.
 */
export function parseJobEvent(type: JobEventType, payload: Payload): JobEvent {
  const stored = payload.job as Payload | undefined;
  if (stored && typeof stored.status === "string") return { ...payload, type } as JobEvent;
  const ownStatus = type !== "SCENE_UPDATED" ? text(payload.status) : null;
  const status = (ownStatus ?? LEGACY_STATUS[type]) as JobStatus;
  const stage = (type !== "SCENE_UPDATED" ? text(payload.stage) : null) ?? STATUS_STAGE[status] ?? null;
  const job: JobState = { status, stage, progress: PHASE_PROGRESS[status] ?? 0 };
  switch (type) {
    case "SCENE_UPDATED": {
      const sceneStatus = (text(payload.status) ?? "RUNNING") as PartStatus;
      return {
        type,
        job,
        scene: {
          index: number(payload.index, 0),
          status: sceneStatus,
          progress: number(payload.progress, sceneStatus === "SUCCEEDED" ? 1 : 0),
          error: text(payload.error),
        },
      };
    }
    case "COMPLETED":
      return { type, job, video: payload.video as FinishedVideo };
    case "FAILED":
      return {
        type,
        job,
        error: {
          code: text(payload.errorCode) ?? "INTERNAL_SERVER_ERROR",
          message: text(payload.error) ?? "",
        },
      };
    case "COST_UPDATED":
      return { type, job, cost: payload.cost as CostChange };
    case "RENDITIONS_READY":
      return { type, job, renditions: payload.renditions as { mediaId: string; labels: string[] } };
    case "JOB_UPDATED": {
      const scoreStatus = text(payload.scoreStatus);
      return {
        type,
        job,
        ...(scoreStatus
          ? {
              score: {
                status: scoreStatus as PartStatus,
                progress: number(payload.scoreProgress, 0),
                error: null,
              },
            }
          : {}),
      };
    }
    default:
      return { type, job };
  }
}
