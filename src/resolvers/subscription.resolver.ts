import { Arg, ID, Int, Resolver, Root, Subscription } from "type-graphql";
import type { SceneEntity } from "../db/entities/index.js";
import type { StreamTransport } from "../events/event-stream.js";
import type { SceneState } from "../events/job-event.types.js";
import type { JobEventDelivery } from "../events/job-event-delivery.js";
import { VideoJobEvent } from "../schema/job-event.type.js";
import type { Scene } from "../schema/video-job.type.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { createLoaders } from "./loaders.js";
import { toScene, toVideoJob } from "./mappers.js";

export interface SubscriptionContext extends GraphQLContext {
  /** The subscriber's socket, for backpressure (src/http/websocket.ts). */
  transport?: StreamTransport;
  /** Subscribers with the same share key (tenant, operation, variables) can share one execution per event. */
  shareKey?: string;
}

@Resolver(() => VideoJobEvent)
export class SubscriptionResolver {
  @Subscription(() => VideoJobEvent, {
    description:
      "Live progress of a job: a SNAPSHOT (the job and its scenes as of a sequence), then every later event in order; " +
      "completes after COMPLETED, FAILED or CANCELLED. With `afterSequence`, resumes after that event (no snapshot, " +
      "no gaps, no repeats). Another tenant's job is NOT_FOUND.",
    subscribe: async ({ args, context }) => {
      const subscriber = context as SubscriptionContext;
      return await subscriber.services.jobEvents.followJob(
        tenantOf(subscriber),
        args.jobId as string,
        (args.afterSequence as number | null | undefined) ?? null,
        subscriber,
      );
    },
  })
  videoJobProgress(
    @Root() delivery: JobEventDelivery,
    @Arg("jobId", () => ID) _jobId: string,
    @Arg("afterSequence", () => Int, { nullable: true }) _afterSequence: number | null,
  ): VideoJobEvent {
    return toVideoJobEvent(delivery);
  }

  @Subscription(() => VideoJobEvent, {
    description:
      "Jobs of a campaign being created and finishing (CREATED, COMPLETED, FAILED, CANCELLED), for a dashboard.",
    subscribe: async ({ args, context }) => {
      const subscriber = context as SubscriptionContext;
      return await subscriber.services.jobEvents.followCampaign(
        tenantOf(subscriber),
        args.campaignId as string,
        subscriber,
      );
    },
  })
  campaignActivity(
    @Root() delivery: JobEventDelivery,
    @Arg("campaignId", () => ID) _campaignId: string,
  ): VideoJobEvent {
    return toVideoJobEvent(delivery);
  }
}

/**
 * The context one delivery is executed in: DataLoaders primed with the job (and scenes) read for
 * it, so nested fields show the delivery's data without a query. Every receiver of the delivery
 * in the same tenant shares one set.
 */
export function deliveryContext<C extends GraphQLContext>(context: C, delivery: JobEventDelivery): C {
  const tenantId = context.principal.tenantId;
  const loaders = delivery.shared(`loaders:${tenantId}`, () => {
    const primed = createLoaders(context.services, tenantId);
    const { job, scenes } = delivery;
    if (job?.tenantId === tenantId) {
      primed.videoJob.prime(job.id, job);
      if (scenes) primed.scenesByJob.prime(job.id, [...scenes]);
    }
    return primed;
  });
  return { ...context, loaders };
}

/** The GraphQL shape of a delivery: the job with its status, stage and progress as of the event. */
function toVideoJobEvent({ event, job, scenes }: JobEventDelivery): VideoJobEvent {
  return {
    sequence: event.sequence,
    type: event.type,
    job: { ...toVideoJob(job!), ...event.job },
    scene: event.type === "SCENE_UPDATED" ? sceneAsOf(event.scene, scenes ?? []) : null,
    at: event.createdAt,
  };
}

function sceneAsOf(state: SceneState, scenes: readonly SceneEntity[]): Scene | null {
  const row = scenes.find((scene) => scene.index === state.index);
  if (!row) return null;
  return { ...toScene(row), status: state.status, progress: state.progress, error: state.error ?? row.error };
}
