/**
 * The scene plan of a property video: which rooms, in which order, with which camera move and
 * prompt. Pure data; the selectors fill each slot with a pair of photos.
 */

import type { CameraMove, MusicMood, RoomType, SceneType } from "../../domain/vocabulary.js";
import { AppError } from "../../errors.js";

export const MIN_SCENES = 1;
export const MAX_SCENES = 12;

/** What each count keeps of the full tour: rooms buyers ask about first survive the cut. */
const CORE_PLANS: Readonly<Record<number, readonly SceneType[]>> = {
  1: ["EXTERIOR"],
  2: ["EXTERIOR", "LIVING"],
  3: ["EXTERIOR", "LIVING", "OUTDOOR"],
  4: ["EXTERIOR", "LIVING", "KITCHEN", "OUTDOOR"],
  5: ["EXTERIOR", "LIVING", "KITCHEN", "BEDROOM", "OUTDOOR"],
  6: ["EXTERIOR", "LIVING", "KITCHEN", "BEDROOM", "BATH", "OUTDOOR"],
  7: ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"],
};

/** Beyond 7, extra scenes go to the rooms listings have most photos of, in this order. */
const EXTRA_SCENES: readonly SceneType[] = ["LIVING", "BEDROOM", "EXTERIOR", "KITCHEN", "OUTDOOR"];

/** Tour order: arrive outside, walk through, finish outside. */
const TOUR_ORDER: readonly SceneType[] = [
  "EXTERIOR",
  "LIVING",
  "KITCHEN",
  "DINING",
  "BEDROOM",
  "BATH",
  "OUTDOOR",
];

export function planScenes(sceneCount: number): SceneType[] {
  if (!Number.isInteger(sceneCount) || sceneCount < MIN_SCENES || sceneCount > MAX_SCENES) {
    throw new AppError(
      "BAD_USER_INPUT",
      `sceneCount must be an integer from ${MIN_SCENES} to ${MAX_SCENES}`,
      {
        details: { sceneCount },
      },
    );
  }
  const core = CORE_PLANS[Math.min(sceneCount, 7)]!;
  const chosen = [...core, ...EXTRA_SCENES.slice(0, Math.max(0, sceneCount - 7))];
  // Repeats sit next to their twin, so the tour never walks back into a room it left.
  return [...chosen].sort((a, b) => TOUR_ORDER.indexOf(a) - TOUR_ORDER.indexOf(b));
}

/** Room types that may fill a scene, best first. */
export const SCENE_ROOM_TYPES: Readonly<Record<SceneType, readonly RoomType[]>> = {
  EXTERIOR: ["EXTERIOR"],
  LIVING: ["LIVING"],
  KITCHEN: ["KITCHEN"],
  DINING: ["DINING"],
  BEDROOM: ["BEDROOM"],
  BATH: ["BATH"],
  OUTDOOR: ["POOL", "VIEW", "EXTERIOR"],
};

/**
 * Rooms that can stand in when a scene has no photo of its own, nearest in spirit first
 * (an open-plan kitchen often shows the dining table). Never FLOOR_PLAN.
 */
export const SCENE_FALLBACK_ROOM_TYPES: Readonly<Record<SceneType, readonly RoomType[]>> = {
  EXTERIOR: ["POOL", "VIEW"],
  LIVING: ["DINING", "KITCHEN", "BEDROOM"],
  KITCHEN: ["DINING", "LIVING"],
  DINING: ["KITCHEN", "LIVING"],
  BEDROOM: ["LIVING", "BATH"],
  BATH: ["BEDROOM"],
  OUTDOOR: ["LIVING"],
};

const SCENE_MOVES: Readonly<Record<SceneType, readonly CameraMove[]>> = {
  EXTERIOR: ["PUSH_IN", "CRANE_UP", "ORBIT_RIGHT"],
  LIVING: ["TRUCK_RIGHT", "ORBIT_LEFT", "PAN_RIGHT"],
  KITCHEN: ["TRUCK_LEFT", "PAN_RIGHT", "PUSH_IN"],
  DINING: ["ORBIT_RIGHT", "TRUCK_RIGHT", "PAN_LEFT"],
  BEDROOM: ["PAN_LEFT", "PUSH_IN", "TRUCK_LEFT"],
  BATH: ["PUSH_IN", "PAN_RIGHT"],
  OUTDOOR: ["CRANE_UP", "TRUCK_LEFT", "ORBIT_LEFT"],
};

/**
 * A camera move for the scene at `index`. The opening shot pushes in towards the house; the
 * last scene pulls out, which reads as a goodbye. Other scenes rotate through moves that suit
 * the room, so consecutive scenes rarely repeat one.
 */
export function defaultCameraMove(sceneType: SceneType, index: number, sceneCount?: number): CameraMove {
  if (sceneCount !== undefined && sceneCount > 1 && index === sceneCount - 1) return "PULL_OUT";
  if (index === 0 && sceneType === "EXTERIOR") return "PUSH_IN";
  const moves = SCENE_MOVES[sceneType];
  return moves[index % moves.length]!;
}

/** Moves that read well when first and last frame are the same photo (no parallax to invent). */
export const SINGLE_PHOTO_MOVES: readonly CameraMove[] = ["PUSH_IN", "PULL_OUT", "PAN_LEFT", "PAN_RIGHT"];

const SCENE_SUBJECT: Readonly<Record<SceneType, string>> = {
  EXTERIOR: "the home's exterior and facade",
  LIVING: "the living room",
  KITCHEN: "the kitchen",
  DINING: "the dining area",
  BEDROOM: "the bedroom",
  BATH: "the bathroom",
  OUTDOOR: "the outdoor space and view",
};

const MOOD_STYLE: Readonly<Record<MusicMood, string>> = {
  LUXURY: "elegant, high-end, soft golden light",
  MODERN: "clean, minimal, crisp daylight",
  WARM: "inviting, cosy, warm natural light",
  UPBEAT: "bright, lively, sunny",
  CALM: "serene, unhurried, soft diffused light",
};

/** One-line cinematic prompt for a video model. */
export function scenePrompt(sceneType: SceneType, mood: MusicMood): string {
  return `Smooth cinematic real-estate shot of ${SCENE_SUBJECT[sceneType]}, ${MOOD_STYLE[mood]}, steady stabilised camera, photorealistic, no people, no text.`;
}

/**
 * Camera moves for a whole plan: the default per scene, nudged to the room's next option when
 * it would repeat the previous scene's move (two identical moves in a row look mechanical).
 */
export function planCameraMoves(plan: readonly SceneType[]): CameraMove[] {
  const moves: CameraMove[] = [];
  plan.forEach((sceneType, index) => {
    let move = defaultCameraMove(sceneType, index, plan.length);
    const options = SCENE_MOVES[sceneType];
    for (let step = 1; move === moves[index - 1] && step <= options.length; step++) {
      move = options[(index + step) % options.length]!;
    }
    moves.push(move);
  });
  return moves;
}
