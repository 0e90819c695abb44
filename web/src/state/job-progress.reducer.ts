import type { JobStatus, SceneStatus, VideoJobEventType } from "../gql/graphql.js";

/**
 * The job screen's live state, folded from `videoJobProgress` events. Pure (no React, no I/O):
 * the unit tests drive it with event sequences, including a resume after a dropped socket.
 */

export interface LiveScene {
  index: number;
  status: SceneStatus;
  /** 0 to 1. */
  progress: number;
  error: string | null;
}

/** What one event of the subscription carries (the VideoJobProgress document's selection). */
export interface ProgressEvent {
  sequence: number;
  type: VideoJobEventType;
  job: {
    status: JobStatus;
    stage: string | null;
    progress: number;
    error: string | null;
    errorCode: string | null;
    scenes: readonly LiveScene[];
  };
  scene: (LiveScene & { errorCode?: string | null }) | null;
}

export interface JobProgressState {
  /** The last event applied; resume after it. */
  lastSequence: number | null;
  status: JobStatus | null;
  stage: string | null;
  progress: number;
  error: string | null;
  errorCode: string | null;
  /** By index, in order. */
  scenes: readonly LiveScene[];
  /** Events that skipped a sequence number (the server promises none: shown as a warning). */
  gaps: number;
  /** Events delivered twice and ignored (the server promises none). */
  repeats: number;
  /** Bumped when the job's shape changed (planned scenes, a clip, the video, the cost): refetch it. */
  refreshes: number;
  /** The last event was terminal (COMPLETED, FAILED, CANCELLED); a re-roll starts it again. */
  ended: boolean;
}

export const initialJobProgress: JobProgressState = {
  lastSequence: null,
  status: null,
  stage: null,
  progress: 0,
  error: null,
  errorCode: null,
  scenes: [],
  gaps: 0,
  repeats: 0,
  refreshes: 0,
  ended: false,
};

const TERMINAL_EVENTS: readonly VideoJobEventType[] = ["COMPLETED", "FAILED", "CANCELLED"];
const FINISHED_SCENE: readonly SceneStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];

function withScene(scenes: readonly LiveScene[], scene: LiveScene): LiveScene[] {
  const others = scenes.filter((each) => each.index !== scene.index);
  return [...others, scene].sort((a, b) => a.index - b.index);
}

function liveScene(scene: LiveScene): LiveScene {
  return { index: scene.index, status: scene.status, progress: scene.progress, error: scene.error };
}

export function reduceJobProgress(state: JobProgressState, event: ProgressEvent): JobProgressState {
  const jobFields = {
    lastSequence: event.sequence,
    status: event.job.status,
    stage: event.job.stage,
    progress: event.job.progress,
    error: event.job.error,
    errorCode: event.job.errorCode,
    ended: TERMINAL_EVENTS.includes(event.type),
  };
  if (event.type === "SNAPSHOT") {
    if (state.lastSequence !== null && event.sequence < state.lastSequence) return state;
    return {
      ...state,
      ...jobFields,
      scenes: [...event.job.scenes].map(liveScene).sort((a, b) => a.index - b.index),
      refreshes: state.refreshes + 1,
      ended: ["SUCCEEDED", "FAILED", "CANCELLED"].includes(event.job.status),
    };
  }
  if (state.lastSequence !== null && event.sequence <= state.lastSequence) {
    return { ...state, repeats: state.repeats + 1 };
  }
  const gap = state.lastSequence !== null && event.sequence > state.lastSequence + 1;
  let scenes = state.scenes;
  let refresh = gap || TERMINAL_EVENTS.includes(event.type) || event.type === "COST_UPDATED";
  if (event.type === "SCENE_UPDATED" && event.scene) {
    const before = scenes.find((scene) => scene.index === event.scene!.index);
    scenes = withScene(scenes, liveScene(event.scene));
    // A scene that finishes has a clip (or an error) to show; an unknown one means new scenes.
    refresh ||=
      !before || (before.status !== event.scene.status && FINISHED_SCENE.includes(event.scene.status));
  }
  if (event.type === "JOB_UPDATED" || event.type === "CREATED") {
    // Scenes appear when the plan is stored; the job's list is as of delivery, so it only adds.
    for (const scene of event.job.scenes) {
      if (!scenes.some((known) => known.index === scene.index)) scenes = withScene(scenes, liveScene(scene));
    }
    refresh ||= event.job.status !== state.status || scenes.length !== state.scenes.length;
  }
  return {
    ...state,
    ...jobFields,
    scenes,
    gaps: state.gaps + (gap ? 1 : 0),
    refreshes: state.refreshes + (refresh ? 1 : 0),
  };
}
