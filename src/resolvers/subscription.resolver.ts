import { Arg, Ctx, FieldResolver, ID, Int, Resolver, Root, Subscription } from "type-graphql";
import type { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { TERMINAL_JOB_STATUSES } from "../db/entities/video-job.entity.js";
import { AppError } from "../errors.js";
import { type JobEventBatch, type JobEventRecord, readJobSnapshot } from "../events/job-event-listener.js";
import { VideoJobEvent } from "../schema/job-event.type.js";
import { type Scene, VideoJob } from "../schema/video-job.type.js";
import { notFound } from "./campaign.resolver.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { createLoaders, type Loaders } from "./loaders.js";
import { toScene, toVideoJob } from "./mappers.js";

/** What the transport (src/http/websocket.ts) lets a subscription know about its socket. */
export interface SubscriptionTransport {
  /** True when the socket's send buffer is over its bound: the client is not keeping up. */
  overloaded(): boolean;
  /** Closes the socket (a slow consumer is dropped, never buffered without bound). */
  drop(reason: string): void;
}

export interface SubscriptionContext extends GraphQLContext {
  transport?: SubscriptionTransport;
}

/** Events a subscription may hold for a client that is slower than the job; beyond that it is dropped. */
export const MAX_QUEUED_EVENTS = 10_000;
/** A client that has taken nothing for this long while events wait counts as stalled and is dropped. */
export const STALLED_AFTER_MS = 15_000;

const TERMINAL_EVENTS = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

interface Queued {
  event: VideoJobEvent;
  loaders: Loaders;
}

/**
 * A bounded async iterator between the listener (push) and graphql-ws (pull). Each event carries
 * fresh DataLoaders (primed with what the listener read once for every subscriber), installed on
 * the context just before the event is executed, so nested fields see the event's data.
 */
class EventStream implements AsyncIterableIterator<VideoJobEvent> {
  private readonly items: Queued[] = [];
  private waiting: ((result: IteratorResult<VideoJobEvent>) => void) | undefined;
  private ending = false;
  private done = false;
  /** When the client last took an event (or the stream started). */
  private lastPull = Date.now();

  constructor(
    private readonly context: SubscriptionContext,
    private readonly onClose: () => void,
  ) {}

  push(item: Queued, last = false): void {
    if (this.done || this.ending) return;
    if (last) this.ending = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.context.loaders = item.loaders;
      resolve({ value: item.event, done: false });
      return;
    }
    const stalled = this.items.length > 0 && Date.now() - this.lastPull > STALLED_AFTER_MS;
    if (stalled || this.items.length >= MAX_QUEUED_EVENTS || this.context.transport?.overloaded()) {
      this.context.logger.warn({ queued: this.items.length, stalled }, "dropping a slow subscriber");
      this.finish();
      this.context.transport?.drop("slow consumer");
      return;
    }
    this.items.push(item);
  }

  /** Ends the stream after what is queued. */
  end(): void {
    this.ending = true;
    if (this.items.length === 0) this.finish();
  }

  async next(): Promise<IteratorResult<VideoJobEvent>> {
    this.lastPull = Date.now();
    const item = this.items.shift();
    if (item) {
      this.context.loaders = item.loaders;
      return { value: item.event, done: false };
    }
    if (this.done || this.ending) {
      this.finish();
      return { value: undefined, done: true };
    }
    return await new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<VideoJobEvent>> {
    this.finish();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<VideoJobEvent>> {
    this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.items.length = 0;
    this.onClose();
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }
}

/**
 * Loaders for one delivery, primed with what the listener read. Every subscriber of a job shares
 * the job's tenant, so the subscribers of one read share one set (keyed by the entity read).
 */
const sharedLoaders = new WeakMap<VideoJobEntity, Loaders>();

function primedLoaders(context: GraphQLContext, job: VideoJobEntity | null, scenes: SceneEntity[]): Loaders {
  if (!job) return createLoaders(context.services, context.principal.tenantId);
  let loaders = sharedLoaders.get(job);
  if (!loaders || job.tenantId !== context.principal.tenantId) {
    loaders = createLoaders(context.services, context.principal.tenantId);
    loaders.videoJob.prime(job.id, job);
    loaders.scenesByJob.prime(job.id, scenes);
    if (job.tenantId === context.principal.tenantId) sharedLoaders.set(job, loaders);
  }
  return loaders;
}

/** Job progress as of a status the row has moved past (the row's own value when it has not). */
function progressAt(job: VideoJobEntity, status: string): number {
  if (status === job.status) return job.progress;
  if (status === "SUCCEEDED") return 1;
  if (status === "RENDERING" || status === "ASSEMBLING")
    return Math.max(0.05, status === "ASSEMBLING" ? 0.9 : 0.05);
  return 0;
}

function sceneAt(event: JobEventRecord, scenes: SceneEntity[]): Scene | null {
  if (event.type !== "SCENE_UPDATED") return null;
  const index = Number(event.payload.index);
  const row = scenes.find((scene) => scene.index === index);
  if (!row) return null;
  const scene = toScene(row);
  if (typeof event.payload.status === "string") scene.status = event.payload.status as Scene["status"];
  if (typeof event.payload.progress === "number") scene.progress = event.payload.progress;
  else if (scene.status === "PENDING") scene.progress = 0;
  if (typeof event.payload.error === "string") scene.error = event.payload.error;
  return scene;
}

function jobAt(job: VideoJobEntity, event: JobEventRecord): VideoJob {
  return {
    ...toVideoJob(job),
    status: event.status,
    stage: event.stage,
    progress: progressAt(job, event.status),
  };
}

/**
 * One GraphQL event object per appended event and read, shared by every subscriber of the job:
 * the transport can then execute a selection once for all subscribers asking the same thing.
 */
const sharedEvents = new WeakMap<JobEventRecord, VideoJobEvent>();

function eventOf(record: JobEventRecord, job: VideoJobEntity, scenes: SceneEntity[]): VideoJobEvent {
  let event = sharedEvents.get(record);
  if (!event) {
    event = {
      sequence: record.sequence,
      type: record.type,
      job: jobAt(job, record),
      scene: sceneAt(record, scenes),
      at: record.createdAt,
      payload: record.payload,
    };
    sharedEvents.set(record, event);
  }
  return event;
}

@Resolver(() => VideoJobEvent)
export class SubscriptionResolver {
  @Subscription(() => VideoJobEvent, {
    description:
      "Live progress of a job: a SNAPSHOT (the job and its scenes as of a sequence), then every later event in order; " +
      "completes after COMPLETED, FAILED or CANCELLED. With `afterSequence`, resumes after that event (no snapshot, " +
      "no gaps, no repeats). Another tenant's job is NOT_FOUND.",
    subscribe: async ({ args, context }) =>
      await subscribeToJob(
        context as SubscriptionContext,
        args.jobId as string,
        (args.afterSequence as number | null | undefined) ?? null,
      ),
  })
  videoJobProgress(
    @Root() event: VideoJobEvent,
    @Arg("jobId", () => ID) _jobId: string,
    @Arg("afterSequence", () => Int, { nullable: true }) _afterSequence: number | null,
  ): VideoJobEvent {
    return event;
  }

  @Subscription(() => VideoJobEvent, {
    description:
      "Jobs of a campaign being created and finishing (CREATED, COMPLETED, FAILED, CANCELLED), for a dashboard.",
    subscribe: async ({ args, context }) =>
      await subscribeToCampaign(context as SubscriptionContext, args.campaignId as string),
  })
  campaignActivity(
    @Root() event: VideoJobEvent,
    @Arg("campaignId", () => ID) _campaignId: string,
  ): VideoJobEvent {
    return event;
  }

  @FieldResolver(() => VideoJob)
  async job(@Root() event: VideoJobEvent, @Ctx() context: GraphQLContext): Promise<VideoJob> {
    if (event.job.createdAt) return event.job;
    // A campaign activity event carries only the id and status: the rest comes through the tenant's loader.
    const entity = await context.loaders.videoJob.load(event.job.id);
    if (!entity) throw notFound("Video job");
    return { ...toVideoJob(entity), status: event.job.status };
  }
}

async function subscribeToJob(
  context: SubscriptionContext,
  jobId: string,
  afterSequence: number | null,
): Promise<AsyncIterable<VideoJobEvent>> {
  const tenantId = tenantOf(context);
  if (afterSequence !== null && afterSequence < 0)
    throw new AppError("BAD_USER_INPUT", "afterSequence must be ≥ 0");
  const owned = (await context.services.videoJobs.byIds(tenantId, [jobId]))[0];
  if (!owned) throw notFound("Video job");

  let watcher: { close(): void } | undefined;
  const stream = new EventStream(context, () => watcher?.close());
  let after = afterSequence;
  if (after === null) {
    const snapshot = await readJobSnapshot(context.services.dataSource, jobId);
    if (!snapshot) throw notFound("Video job");
    const { job, scenes } = snapshot;
    after = job.lastSequence;
    const terminal = TERMINAL_JOB_STATUSES.includes(job.status);
    stream.push(
      {
        event: {
          sequence: job.lastSequence,
          type: "SNAPSHOT",
          job: toVideoJob(job),
          scene: null,
          at: new Date(),
        },
        loaders: primedLoaders(context, job, scenes),
      },
      terminal,
    );
    if (terminal) {
      stream.end();
      return stream;
    }
  } else if (TERMINAL_JOB_STATUSES.includes(owned.status) && owned.lastSequence <= after) {
    stream.end();
    return stream;
  }

  watcher = context.services.jobEvents.watchJob(jobId, after, (batch: JobEventBatch) => {
    if (!batch.job) return stream.end();
    const loaders = primedLoaders(context, batch.job, batch.scenes);
    for (const event of batch.events) {
      const last = TERMINAL_EVENTS.has(event.type);
      stream.push({ event: eventOf(event, batch.job, batch.scenes), loaders }, last);
      if (last) return stream.end();
    }
  });
  return stream;
}

async function subscribeToCampaign(
  context: SubscriptionContext,
  campaignId: string,
): Promise<AsyncIterable<VideoJobEvent>> {
  const tenantId = tenantOf(context);
  const campaign = (await context.services.campaigns.byIds(tenantId, [campaignId]))[0];
  if (!campaign) throw notFound("Campaign");
  const listener = context.services.jobEvents;
  const floor = await listener.campaignFloor(campaign.id);
  let watcher: { close(): void } | undefined;
  const stream = new EventStream(context, () => watcher?.close());
  watcher = listener.watchCampaign(campaign.id, floor, (events) => {
    for (const event of events) {
      if (event.tenantId !== tenantId) continue;
      const loaders = createLoaders(context.services, tenantId);
      stream.push({
        event: {
          sequence: event.sequence,
          type: event.type,
          // Filled in by the job field below, through the tenant-scoped loader.
          job: { id: event.jobId, status: event.status } as VideoJob,
          scene: null,
          at: event.createdAt,
        },
        loaders,
      });
    }
  });
  return stream;
}
