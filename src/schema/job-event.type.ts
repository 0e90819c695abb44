import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { JOB_EVENT_TYPES } from "../events/job-event.types.js";
import { Scene, VideoJob } from "./video-job.type.js";

export const VIDEO_JOB_EVENT_TYPES = ["SNAPSHOT", ...JOB_EVENT_TYPES] as const;
export type VideoJobEventKind = (typeof VIDEO_JOB_EVENT_TYPES)[number];

export const VideoJobEventTypeEnum = Object.fromEntries(
  VIDEO_JOB_EVENT_TYPES.map((value) => [value, value]),
) as {
  [K in VideoJobEventKind]: K;
};

registerEnumType(VideoJobEventTypeEnum, {
  name: "VideoJobEventType",
  description:
    "SNAPSHOT: the job and its scenes as of `sequence`; then what changed: CREATED, JOB_UPDATED (status, stage, score), " +
    "SCENE_UPDATED (one scene's status and progress), COST_UPDATED (a provider's actual charge was recorded: read `job { cost }`), " +
    "and the terminal COMPLETED, FAILED or CANCELLED.",
});

@ObjectType({ description: "One step of a video job's progress, from its append-only event log." })
export class VideoJobEvent {
  @Field(() => Int, {
    description:
      "Per-job, strictly increasing without gaps. Pass the last one seen as `afterSequence` to resume.",
  })
  sequence!: number;

  @Field(() => VideoJobEventTypeEnum)
  type!: VideoJobEventKind;

  @Field(() => VideoJob, {
    description:
      "The job: status, stage and progress as of this event; other fields (scenes, cost, video) as of delivery.",
  })
  job!: VideoJob;

  @Field(() => Scene, {
    nullable: true,
    description: "For SCENE_UPDATED: the scene, with status and progress as of this event.",
  })
  scene!: Scene | null;

  @Field({ description: "When the event was appended (for SNAPSHOT: when it was read)." })
  at!: Date;
}
