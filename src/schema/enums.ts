import { registerEnumType } from "type-graphql";
import { ASSET_PURPOSES, ASSET_STATUSES } from "../db/entities/asset.entity.js";
import { JOB_STATUSES, PART_STATUSES } from "../db/entities/video-job.entity.js";
import {
  API_KEY_SCOPES,
  ASPECT_RATIOS,
  CAMERA_MOVES,
  MUSIC_MOODS,
  QUALITY_FLAGS,
  ROOM_TYPES,
  SCENE_TYPES,
} from "../domain/vocabulary.js";
import { VIDEO_TEMPLATES } from "../render/listing-format.js";

/** GraphQL enums from the same constant lists the code uses, so the two cannot drift. */
export function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((value) => [value, value])) as { [K in T[number]]: K };
}

export const ApiKeyScopeEnum = enumOf(API_KEY_SCOPES);
export const AssetStatusEnum = enumOf(ASSET_STATUSES);
export const RoomTypeEnum = enumOf(ROOM_TYPES);
export const SceneTypeEnum = enumOf(SCENE_TYPES);
export const CameraMoveEnum = enumOf(CAMERA_MOVES);
export const MusicMoodEnum = enumOf(MUSIC_MOODS);
export const AspectRatioEnum = enumOf(ASPECT_RATIOS);
export const QualityFlagEnum = enumOf(QUALITY_FLAGS);
export const JobStatusEnum = enumOf(JOB_STATUSES);
export const SceneStatusEnum = enumOf(PART_STATUSES);
export const AssetPurposeEnum = enumOf(ASSET_PURPOSES);
export const VideoTemplateEnum = enumOf(VIDEO_TEMPLATES);

registerEnumType(ApiKeyScopeEnum, {
  name: "ApiKeyScope",
  description: "What a key may do; admin includes write, write includes read.",
});
registerEnumType(AssetStatusEnum, { name: "AssetStatus" });
registerEnumType(RoomTypeEnum, { name: "RoomType", description: "What a photo shows." });
registerEnumType(SceneTypeEnum, { name: "SceneType", description: "A slot of the video's scene plan." });
registerEnumType(CameraMoveEnum, { name: "CameraMove" });
registerEnumType(MusicMoodEnum, { name: "MusicMood" });
registerEnumType(AspectRatioEnum, { name: "AspectRatio" });
registerEnumType(QualityFlagEnum, {
  name: "QualityFlag",
  description: "Problems image analysis found; a flagged photo is not chosen while others remain.",
});
registerEnumType(JobStatusEnum, { name: "JobStatus" });
registerEnumType(SceneStatusEnum, { name: "SceneStatus" });
registerEnumType(AssetPurposeEnum, {
  name: "AssetPurpose",
  description:
    "PHOTO: a listing photo, chosen for scenes. LOGO, AGENT_PHOTO: shown on the branded outro only.",
});
registerEnumType(VideoTemplateEnum, {
  name: "VideoTemplate",
  description: "Decides the headline, which facts show and the outro's call to action.",
});
