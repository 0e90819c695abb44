import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CAMERA_MOVES, MUSIC_MOODS, SCENE_TYPES } from "../../src/domain/vocabulary.js";
import { AppError } from "../../src/errors.js";
import {
  defaultCameraMove,
  MAX_SCENES,
  planCameraMoves,
  planScenes,
  SCENE_FALLBACK_ROOM_TYPES,
  SCENE_ROOM_TYPES,
  scenePrompt,
} from "../../src/providers/local/scene-plan.js";

describe("planScenes", () => {
  it("plans the full tour for 7 scenes", () => {
    assert.deepEqual(planScenes(7), [
      "EXTERIOR",
      "LIVING",
      "KITCHEN",
      "DINING",
      "BEDROOM",
      "BATH",
      "OUTDOOR",
    ]);
  });

  it("degrades to the essentials for fewer scenes", () => {
    assert.deepEqual(planScenes(1), ["EXTERIOR"]);
    assert.deepEqual(planScenes(3), ["EXTERIOR", "LIVING", "OUTDOOR"]);
    assert.deepEqual(planScenes(5), ["EXTERIOR", "LIVING", "KITCHEN", "BEDROOM", "OUTDOOR"]);
  });

  it("adds second living, bedroom, exterior… scenes next to their twin, up to 12", () => {
    assert.deepEqual(planScenes(8), [
      "EXTERIOR",
      "LIVING",
      "LIVING",
      "KITCHEN",
      "DINING",
      "BEDROOM",
      "BATH",
      "OUTDOOR",
    ]);
    assert.deepEqual(planScenes(12), [
      "EXTERIOR",
      "EXTERIOR",
      "LIVING",
      "LIVING",
      "KITCHEN",
      "KITCHEN",
      "DINING",
      "BEDROOM",
      "BEDROOM",
      "BATH",
      "OUTDOOR",
      "OUTDOOR",
    ]);
  });

  it("always opens outside and, from 3 scenes, ends outdoors", () => {
    for (let count = 1; count <= MAX_SCENES; count++) {
      const plan = planScenes(count);
      assert.equal(plan.length, count);
      assert.equal(plan[0], "EXTERIOR");
      if (count >= 3) assert.equal(plan.at(-1), "OUTDOOR");
      // Tour order: never walks back to an earlier room type.
      const order = plan.map((scene) => SCENE_TYPES.indexOf(scene));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      );
    }
  });

  it("refuses counts out of range", () => {
    for (const count of [0, -1, 13, 2.5, Number.NaN]) {
      assert.throws(
        () => planScenes(count),
        (error: unknown) => error instanceof AppError && error.code === "BAD_USER_INPUT",
      );
    }
  });
});

describe("scene room types", () => {
  it("lets OUTDOOR take pool, then view, then exterior", () => {
    assert.deepEqual(SCENE_ROOM_TYPES.OUTDOOR, ["POOL", "VIEW", "EXTERIOR"]);
    for (const scene of SCENE_TYPES) {
      assert.ok(SCENE_ROOM_TYPES[scene].length > 0);
      assert.ok(!SCENE_ROOM_TYPES[scene].includes("FLOOR_PLAN"));
      assert.ok(!SCENE_FALLBACK_ROOM_TYPES[scene].includes("FLOOR_PLAN"));
    }
  });
});

describe("camera moves", () => {
  it("opens with a push-in on the exterior and ends with a pull-out", () => {
    assert.equal(defaultCameraMove("EXTERIOR", 0, 7), "PUSH_IN");
    assert.equal(defaultCameraMove("OUTDOOR", 6, 7), "PULL_OUT");
    assert.equal(defaultCameraMove("EXTERIOR", 1), "CRANE_UP");
    for (const scene of SCENE_TYPES) {
      for (let index = 0; index < 12; index++)
        assert.ok(CAMERA_MOVES.includes(defaultCameraMove(scene, index)));
    }
  });

  it("never repeats a move in consecutive scenes and uses several moves", () => {
    for (let count = 1; count <= MAX_SCENES; count++) {
      const moves = planCameraMoves(planScenes(count));
      assert.equal(moves.length, count);
      for (let i = 1; i < moves.length; i++)
        assert.notEqual(moves[i], moves[i - 1], `count ${count} at ${i}`);
      if (count >= 5) assert.ok(new Set(moves).size >= 4);
    }
  });
});

describe("scenePrompt", () => {
  it("is one line naming the room and the mood's light", () => {
    for (const scene of SCENE_TYPES) {
      for (const mood of MUSIC_MOODS) {
        const prompt = scenePrompt(scene, mood);
        assert.ok(!prompt.includes("\n"));
        assert.ok(prompt.length > 40 && prompt.length < 300);
      }
    }
    assert.match(scenePrompt("KITCHEN", "LUXURY"), /kitchen.*golden light/);
    assert.notEqual(scenePrompt("BATH", "CALM"), scenePrompt("BATH", "UPBEAT"));
  });
});
