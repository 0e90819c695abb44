import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  initialJobProgress,
  type JobProgressState,
  type ProgressEvent,
  reduceJobProgress,
} from "../../web/src/state/job-progress.reducer.js";

/** The job screen's state from `videoJobProgress` events: snapshot, live events, a resume. */

type Scene = ProgressEvent["job"]["scenes"][number];

const scene = (index: number, status: Scene["status"], progress: number): Scene => ({
  index,
  status,
  progress,
  error: null,
});

function event(
  sequence: number,
  type: ProgressEvent["type"],
  job: Partial<ProgressEvent["job"]> = {},
  changed: Scene | null = null,
): ProgressEvent {
  return {
    sequence,
    type,
    job: {
      status: "RENDERING",
      stage: "rendering",
      progress: 0.05,
      error: null,
      errorCode: null,
      scenes: [],
      ...job,
    },
    scene: changed,
  };
}

const fold = (events: ProgressEvent[], from: JobProgressState = initialJobProgress) =>
  events.reduce(reduceJobProgress, from);

const SNAPSHOT = event(4, "SNAPSHOT", { scenes: [scene(0, "RUNNING", 0.2), scene(1, "PENDING", 0)] });

describe("reduceJobProgress", () => {
  it("starts from the snapshot: job, scenes and the sequence to resume after", () => {
    const state = fold([SNAPSHOT]);
    assert.equal(state.lastSequence, 4);
    assert.equal(state.status, "RENDERING");
    assert.deepEqual(
      state.scenes.map((each) => [each.index, each.status, each.progress]),
      [
        [0, "RUNNING", 0.2],
        [1, "PENDING", 0],
      ],
    );
    assert.equal(state.ended, false);
  });

  it("moves one scene's bar per SCENE_UPDATED and asks for the job again when a scene finishes", () => {
    const state = fold([
      SNAPSHOT,
      event(5, "SCENE_UPDATED", {}, scene(0, "RUNNING", 0.6)),
      event(6, "SCENE_UPDATED", {}, scene(1, "RUNNING", 0.1)),
    ]);
    assert.deepEqual(
      state.scenes.map((each) => each.progress),
      [0.6, 0.1],
    );
    const finished = reduceJobProgress(state, event(7, "SCENE_UPDATED", {}, scene(0, "SUCCEEDED", 1)));
    assert.equal(finished.refreshes, state.refreshes + 1, "a finished scene has a clip to fetch");
    assert.equal(
      reduceJobProgress(finished, event(8, "SCENE_UPDATED", {}, scene(1, "RUNNING", 0.3))).refreshes,
      finished.refreshes,
    );
  });

  it("resumes after a drop: the events after the last sequence apply once, a repeat is ignored, a gap is counted", () => {
    const before = fold([SNAPSHOT, event(5, "SCENE_UPDATED", {}, scene(0, "RUNNING", 0.4))]);
    // The resumed subscription (afterSequence = 5) delivers 6, 7, …; a server repeating 5 changes nothing.
    const repeated = reduceJobProgress(before, event(5, "SCENE_UPDATED", {}, scene(0, "RUNNING", 0.1)));
    assert.equal(repeated.repeats, 1);
    assert.deepEqual(repeated.scenes, before.scenes);
    const resumed = fold([event(6, "SCENE_UPDATED", {}, scene(0, "RUNNING", 0.7))], repeated);
    assert.equal(resumed.lastSequence, 6);
    assert.equal(resumed.gaps, 0);
    const skipped = reduceJobProgress(resumed, event(9, "SCENE_UPDATED", {}, scene(1, "RUNNING", 0.5)));
    assert.equal(skipped.gaps, 1);
    assert.ok(skipped.refreshes > resumed.refreshes, "a gap refetches the job");
  });

  it("ends on COMPLETED, and a re-roll's events start it again", () => {
    const done = fold([SNAPSHOT, event(5, "COMPLETED", { status: "SUCCEEDED", stage: null, progress: 1 })]);
    assert.equal(done.ended, true);
    assert.equal(done.progress, 1);
    const again = reduceJobProgress(done, event(6, "JOB_UPDATED", { status: "RENDERING", progress: 0.9 }));
    assert.equal(again.ended, false);
    assert.equal(again.status, "RENDERING");
  });

  it("adds the planned scenes when the plan is stored", () => {
    const planning = fold([event(2, "SNAPSHOT", { status: "PLANNING", stage: "selecting", scenes: [] })]);
    const planned = reduceJobProgress(
      planning,
      event(3, "JOB_UPDATED", {
        scenes: [scene(0, "PENDING", 0), scene(1, "PENDING", 0), scene(2, "PENDING", 0)],
      }),
    );
    assert.deepEqual(
      planned.scenes.map((each) => each.index),
      [0, 1, 2],
    );
    assert.ok(planned.refreshes > planning.refreshes);
  });
});
