/**
 * The product's vocabulary: what a photo shows, the scenes of a tour, camera moves, moods, output
 * formats and quality flags. Every layer speaks it (schema, media analysis, rendering, providers),
 * so it sits below all of them and imports nothing.
 */

/** What a photo shows, as guessed at ingest or set by the user. */
export const ROOM_TYPES = [
  "EXTERIOR",
  "LIVING",
  "KITCHEN",
  "DINING",
  "BEDROOM",
  "BATH",
  "POOL",
  "VIEW",
  "FLOOR_PLAN",
  "OTHER",
  "UNKNOWN",
] as const;
export type RoomType = (typeof ROOM_TYPES)[number];

/** The slots of a video's scene plan, in the order a tour usually goes. */
export const SCENE_TYPES = ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"] as const;
export type SceneType = (typeof SCENE_TYPES)[number];

export const CAMERA_MOVES = [
  "PUSH_IN",
  "PULL_OUT",
  "TRUCK_LEFT",
  "TRUCK_RIGHT",
  "PAN_LEFT",
  "PAN_RIGHT",
  "CRANE_UP",
  "CRANE_DOWN",
  "ORBIT_LEFT",
  "ORBIT_RIGHT",
] as const;
export type CameraMove = (typeof CAMERA_MOVES)[number];

export const MUSIC_MOODS = ["LUXURY", "MODERN", "WARM", "UPBEAT", "CALM"] as const;
export type MusicMood = (typeof MUSIC_MOODS)[number];

export const ASPECT_RATIOS = ["LANDSCAPE_16_9", "PORTRAIT_9_16", "SQUARE_1_1", "PORTRAIT_4_5"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const OUTPUT_SIZE: Record<AspectRatio, { width: number; height: number }> = {
  LANDSCAPE_16_9: { width: 1920, height: 1080 },
  PORTRAIT_9_16: { width: 1080, height: 1920 },
  SQUARE_1_1: { width: 1080, height: 1080 },
  PORTRAIT_4_5: { width: 1080, height: 1350 },
};

export const FPS = 30;

/** Quality flags found by image analysis; a flagged photo is never chosen while others remain. */
export const QUALITY_FLAGS = [
  "BLURRY",
  "DARK",
  "OVEREXPOSED",
  "DOCUMENT",
  "LOW_RESOLUTION",
  "DUPLICATE",
] as const;
export type QualityFlag = (typeof QUALITY_FLAGS)[number];

/** What an API key may do: read, also write, also manage keys and tenants. */
export const API_KEY_SCOPES = ["read", "write", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
