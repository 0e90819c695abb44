import { IsOptional, Max, MaxLength, Min } from "class-validator";
import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import type { JobStatus, PartStatus } from "../db/entities/video-job.entity.js";
import type { AspectRatio, CameraMove, MusicMood, SceneType } from "../domain/vocabulary.js";
import type { VideoTemplate } from "../render/listing-format.js";
import { connectionTypes } from "./connection.type.js";
import {
  AspectRatioEnum,
  CameraMoveEnum,
  JobStatusEnum,
  MusicMoodEnum,
  SceneStatusEnum,
  SceneTypeEnum,
  VideoTemplateEnum,
} from "./enums.js";
import { OpenHouse, OpenHouseInput } from "./listing.type.js";

@ObjectType({ description: "One line of a cost: a clip, the score, a selection call." })
export class CostItem {
  @Field({ description: "`VIDEO`, `MUSIC`, `SELECTION` or `DUPLICATE_PREDICTION`." })
  kind!: string;

  @Field(() => Int, { nullable: true })
  sceneIndex!: number | null;

  @Field()
  provider!: string;

  @Field(() => Float)
  units!: number;

  @Field({ description: "What a unit is: `second`, `prediction`, `token`…" })
  unit!: string;

  @Field(() => Float)
  unitPriceUsd!: number;

  @Field(() => Float)
  usd!: number;
}

@ObjectType({ description: "An itemised cost in US dollars." })
export class Cost {
  @Field(() => Float)
  totalUsd!: number;

  @Field(() => [CostItem])
  items!: CostItem[];
}

@ObjectType({ description: "One rung of a video's adaptive-streaming ladder: one fragmented MP4." })
export class VideoRendition {
  @Field({ description: "`1080p`, `720p` or `480p` (lines on the short side)." })
  label!: string;

  @Field(() => Int)
  height!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int, { description: "Average bits per second (video and audio)." })
  bitrate!: number;

  @Field({ description: "Signed URL (1 hour) of the fragmented MP4; supports HTTP Range." })
  url!: string;

  @Field(() => Float)
  byteSize!: number;
}

@ObjectType({ description: "The finished video." })
export class Video {
  @Field({ description: "Signed URL (1 hour), playable in a <video> tag; supports HTTP Range." })
  url!: string;

  @Field({
    description:
      "Signed URL (1 hour) that downloads the video as a file named from the address, template and format, e.g. `12-ocean-drive-just-listed-16x9.mp4`.",
  })
  downloadUrl!: string;

  @Field(() => String, { nullable: true })
  posterUrl!: string | null;

  @Field(() => [VideoRendition], {
    description:
      "The adaptive-streaming ladder (source, 720p, 480p), largest first; empty until the job's RENDITIONS_READY event.",
  })
  renditions!: VideoRendition[];

  @Field(() => String, {
    nullable: true,
    description:
      "Signed URL (1 hour) of the HLS master playlist listing the renditions; null until they are ready. Play it natively (Safari) or with hls.js.",
  })
  hlsUrl!: string | null;

  @Field(() => Float)
  durationSeconds!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Float)
  byteSize!: number;

  @Field()
  contentType!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The AI-disclosure label shown on scenes from a generative video model; null when every scene is a camera move over the real photos.",
  })
  aiDisclosure!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Signed URL (1 hour) of a WebVTT track of what the video shows on screen (`text/vtt`).",
  })
  captionsUrl!: string | null;
}

@ObjectType({ description: "One scene of a video: a photo pair, a camera move, a clip." })
export class Scene {
  /** Internal: used by field resolvers. */
  jobId!: string;
  firstAssetId!: string | null;
  lastAssetId!: string | null;
  clipMediaId!: string | null;

  @Field(() => Int)
  index!: number;

  @Field(() => SceneTypeEnum)
  sceneType!: SceneType;

  @Field(() => SceneStatusEnum)
  status!: PartStatus;

  @Field(() => Float, { description: "0 to 1." })
  progress!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true })
  errorCode!: string | null;

  @Field(() => CameraMoveEnum, { nullable: true })
  cameraMove!: CameraMove | null;

  @Field(() => String, { nullable: true })
  prompt!: string | null;

  @Field(() => String, { nullable: true })
  provider!: string | null;

  @Field(() => Float, { nullable: true, description: "The selector's confidence in the pair, 0 to 1." })
  confidence!: number | null;

  @Field(() => String, { nullable: true, description: "Why the selector chose this pair." })
  reasoning!: string | null;

  @Field(() => Int)
  attempts!: number;
}

@ObjectType({ description: "A request to turn a campaign's photos into a video." })
export class VideoJob {
  /** Internal: used by field resolvers. */
  campaignId!: string;
  tenantId!: string;

  @Field(() => ID)
  id!: string;

  @Field(() => JobStatusEnum)
  status!: JobStatus;

  @Field(() => String, {
    nullable: true,
    description:
      "What the job is doing now, e.g. `selecting`, `rendering`, `muxing`; `waiting_for_slot` while QUEUED behind its tenant's running jobs (the concurrent-jobs quota).",
  })
  stage!: string | null;

  @Field(() => Float, { description: "0 to 1." })
  progress!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true })
  errorCode!: string | null;

  @Field(() => Int)
  sceneCount!: number;

  @Field(() => Float)
  secondsPerScene!: number;

  @Field(() => AspectRatioEnum)
  aspectRatio!: AspectRatio;

  @Field(() => MusicMoodEnum)
  mood!: MusicMood;

  @Field()
  selector!: string;

  @Field()
  videoProvider!: string;

  @Field()
  musicProvider!: string;

  @Field(() => VideoTemplateEnum, {
    nullable: true,
    description: "The listing template; null for jobs made before titles and outro existed (a plain video).",
  })
  template!: VideoTemplate | null;

  @Field({ description: "Whether scenes carry room captions." })
  captions!: boolean;

  @Field(() => OpenHouse, { nullable: true })
  openHouse!: OpenHouse | null;

  @Field(() => Float, { nullable: true, description: "PRICE_REDUCED: the price before the reduction." })
  previousPrice!: number | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

export const VideoJobConnection = connectionTypes(VideoJob, "VideoJob");

@InputType({ description: "What video to make. Everything but the campaign has a default." })
export class CreateVideoJobInput {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => Int, {
    nullable: true,
    description: "Default 7 (exterior → living → kitchen → dining → bedroom → bath → outdoor).",
  })
  @IsOptional()
  @Min(1)
  @Max(12)
  sceneCount?: number | null;

  @Field(() => Float, { nullable: true, description: "Default 4." })
  @IsOptional()
  @Min(2)
  @Max(10)
  secondsPerScene?: number | null;

  @Field(() => AspectRatioEnum, { nullable: true, description: "Default LANDSCAPE_16_9." })
  @IsOptional()
  aspectRatio?: AspectRatio | null;

  @Field(() => MusicMoodEnum, { nullable: true, description: "Default: the campaign's mood, else LUXURY." })
  @IsOptional()
  mood?: MusicMood | null;

  @Field(() => String, {
    nullable: true,
    description: "Pair selector, e.g. `heuristic` (default) or `xai:grok-4`.",
  })
  @IsOptional()
  @MaxLength(100)
  selector?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "e.g. `local` (default) or `replicate:google/veo-3.1-fast`.",
  })
  @IsOptional()
  @MaxLength(100)
  videoProvider?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "e.g. `local` (default) or `replicate:meta/musicgen`.",
  })
  @IsOptional()
  @MaxLength(100)
  musicProvider?: string | null;

  @Field(() => VideoTemplateEnum, { nullable: true, description: "Default JUST_LISTED." })
  @IsOptional()
  template?: VideoTemplate | null;

  @Field(() => OpenHouseInput, {
    nullable: true,
    description: "Required with OPEN_HOUSE (and the campaign's timeZone); not allowed otherwise.",
  })
  @IsOptional()
  openHouse?: OpenHouseInput | null;

  @Field(() => Float, {
    nullable: true,
    description: "Required with PRICE_REDUCED: the old price, above the campaign's price.",
  })
  @IsOptional()
  @Min(0)
  @Max(1e12)
  previousPrice?: number | null;

  @Field(() => Boolean, { nullable: true, description: "Room captions on the scenes (default true)." })
  @IsOptional()
  captions?: boolean | null;
}

@InputType({ description: "A different pair or move for one scene; omitted fields keep their value." })
export class RetrySceneInput {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  firstAssetId?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  lastAssetId?: string | null;

  @Field(() => CameraMoveEnum, { nullable: true })
  @IsOptional()
  cameraMove?: CameraMove | null;
}
