import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from "type-graphql";
import type { BatchProgressUpdate } from "../events/batch-progress.service.js";
import type { Connection } from "../schema/connection.type.js";
import { PageArgs } from "../schema/page-args.type.js";
import { CreateVideoJobInput, type VideoJob, VideoJobConnection } from "../schema/video-job.type.js";
import { BatchProgressEvent, VideoJobBatch } from "../schema/video-job-batch.type.js";
import { type BatchView, encodeBatchCursor, MAX_BATCH_SIZE } from "../services/video-job-batch.service.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { toVideoJob } from "./mappers.js";
import type { SubscriptionContext } from "./subscription.resolver.js";

@Resolver(() => VideoJobBatch)
export class VideoJobBatchResolver {
  @Mutation(() => VideoJobBatch, {
    description:
      `Creates up to ${MAX_BATCH_SIZE} video jobs at once: every input is checked first and any problem refuses them all ` +
      "(BAD_USER_INPUT naming each input). The same idempotencyKey with the same inputs returns the same batch; " +
      "with other inputs, CONFLICT.",
  })
  async createVideoJobs(
    @Arg("inputs", () => [CreateVideoJobInput]) inputs: CreateVideoJobInput[],
    @Arg("idempotencyKey", () => String, { nullable: true }) idempotencyKey: string | null,
    @Ctx() context: GraphQLContext,
  ): Promise<VideoJobBatch> {
    const tenantId = tenantOf(context, "write");
    return toVideoJobBatch(await context.services.batches.create(tenantId, inputs, idempotencyKey ?? null));
  }

  @Query(() => VideoJobBatch, { description: "A batch of the caller's tenant; NOT_FOUND otherwise." })
  async videoJobBatch(
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<VideoJobBatch> {
    const tenantId = tenantOf(context);
    return toVideoJobBatch(await context.services.batches.require(tenantId, id));
  }

  @FieldResolver(() => VideoJobConnection, { description: "The batch's jobs in the order of the inputs." })
  async jobs(
    @Root() batch: VideoJobBatch,
    @Args() args: PageArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<VideoJob>> {
    tenantOf(context);
    const page = await context.services.batches.pageJobIds(batch.id, args);
    const jobs = await context.loaders.videoJob.loadMany(page.nodes.map((node) => node.jobId));
    const edges = page.nodes.flatMap((node, index) => {
      const job = jobs[index];
      return job && !(job instanceof Error)
        ? [{ cursor: encodeBatchCursor(node.position), node: toVideoJob(job) }]
        : [];
    });
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Subscription(() => BatchProgressEvent, {
    description:
      "A batch's progress: the batch as of now, then an update at every event of one of its jobs; completes when " +
      "every job has ended. Another tenant's batch is NOT_FOUND.",
    subscribe: async ({ args, context }) => {
      const subscriber = context as SubscriptionContext;
      return await subscriber.services.batchProgress.follow(
        tenantOf(subscriber),
        args.batchId as string,
        subscriber,
      );
    },
  })
  batchProgress(
    @Root() update: BatchProgressUpdate,
    @Arg("batchId", () => ID) _batchId: string,
  ): BatchProgressEvent {
    return { batch: toVideoJobBatch(update.view), job: update.job };
  }
}

function toVideoJobBatch({ batch, summary }: BatchView): VideoJobBatch {
  return {
    id: batch.id,
    status: summary.status,
    progress: summary.progress,
    jobCount: summary.jobCount,
    succeeded: summary.succeeded,
    failed: summary.failed,
    cancelled: summary.cancelled,
    createdAt: batch.createdAt,
    completedAt: batch.completedAt,
  };
}
