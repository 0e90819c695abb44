import { createHash } from "node:crypto";
import type { DataSource } from "typeorm";
import { VideoJobBatchEntity, VideoJobBatchItemEntity } from "../db/entities/index.js";
import { isUuid } from "../domain/ids.js";
import { AppError, isAppError } from "../errors.js";
import type { JobQueue } from "./job-queue.js";
import { type Page, type PageArgs, pageSize } from "./pagination.js";
import type { NewVideoJob, VideoJobStateMachine } from "./video-job.state-machine.js";
import {
  type BatchJobState,
  type BatchSummary,
  batchJobStates,
  summariseBatch,
} from "./video-job-batch.writes.js";
import {
  type CreateVideoJobInput,
  checkIdempotencyKey,
  type VideoPipelineService,
} from "./video-pipeline.service.js";

export const MAX_BATCH_SIZE = 100;

export interface BatchView {
  batch: VideoJobBatchEntity;
  summary: BatchSummary;
}

/** Cursors of a batch's jobs name the input position, so pages follow the order of the inputs. */
export function encodeBatchCursor(position: number): string {
  return Buffer.from(JSON.stringify(["position", position])).toString("base64url");
}

export function decodeBatchCursor(cursor: string): number {
  try {
    if (cursor.length <= 100) {
      const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      if (
        Array.isArray(value) &&
        value.length === 2 &&
        value[0] === "position" &&
        Number.isInteger(value[1]) &&
        value[1] >= 0 &&
        value[1] < MAX_BATCH_SIZE
      )
        return value[1];
    }
  } catch {
    // fall through to the uniform error
  }
  throw new AppError("BAD_USER_INPUT", "Invalid cursor", { details: { argument: "after" } });
}

/**
 * Batches of video jobs: up to 100 inputs checked together and created together (all or none,
 * idempotent by key), read with their jobs' summary. A batch completes in its last job's final
 * transition (`completeBatchOf` in video-job-batch.writes.ts).
 */
export class VideoJobBatchService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      pipeline: Pick<VideoPipelineService, "prepare">;
      jobs: Pick<VideoJobStateMachine, "insertQueued">;
      queue: Pick<JobQueue, "planVideo">;
    },
  ) {}

  /**
   * Every input is checked before anything is written; any problem refuses the whole batch with
   * BAD_USER_INPUT naming each input's problem. The same key and inputs return the same batch;
   * the same key with other inputs is a CONFLICT.
   */
  async create(
    tenantId: string,
    inputs: readonly CreateVideoJobInput[],
    idempotencyKey: string | null,
  ): Promise<BatchView> {
    if (inputs.length < 1 || inputs.length > MAX_BATCH_SIZE)
      throw new AppError("BAD_USER_INPUT", `Give between 1 and ${MAX_BATCH_SIZE} inputs`, {
        details: { max: MAX_BATCH_SIZE },
      });
    checkIdempotencyKey(idempotencyKey);
    const prepared = await this.prepareAll(tenantId, inputs);
    const inputHash = createHash("sha256")
      .update(JSON.stringify(prepared.map((job) => job.inputHash)))
      .digest("hex");

    const { batchId, jobIds } = await this.deps.dataSource.transaction(async (manager) => {
      const batches = manager.getRepository(VideoJobBatchEntity);
      if (idempotencyKey) {
        await manager.query("SELECT pg_advisory_xact_lock(hashtext($1 || ':batch:' || $2))", [
          tenantId,
          idempotencyKey,
        ]);
        const existing = await batches.findOne({ where: { tenantId, idempotencyKey } });
        if (existing) {
          if (existing.inputHash !== inputHash)
            throw new AppError("CONFLICT", "This idempotency key was used with different inputs");
          return { batchId: existing.id, jobIds: [] as string[] };
        }
      }
      const batch = await batches.save(
        batches.create({ tenantId, idempotencyKey, inputHash, jobCount: prepared.length }),
      );
      const ids: string[] = [];
      for (const [position, job] of prepared.entries()) {
        const saved = await this.deps.jobs.insertQueued(manager, job);
        await manager
          .getRepository(VideoJobBatchItemEntity)
          .insert({ batchId: batch.id, position, jobId: saved.id });
        // jobs over the tenant's slots wait; JobAdmission plans them as slots free
        if (saved.admittedAt) ids.push(saved.id);
      }
      return { batchId: batch.id, jobIds: ids };
    });
    for (const jobId of jobIds) await this.deps.queue.planVideo(jobId);
    return await this.require(tenantId, batchId);
  }

  async byId(tenantId: string, id: string): Promise<BatchView | null> {
    if (!isUuid(id)) return null;
    const batch = await this.deps.dataSource
      .getRepository(VideoJobBatchEntity)
      .findOne({ where: { tenantId, id } });
    if (!batch) return null;
    return { batch, summary: summariseBatch(await batchJobStates(this.deps.dataSource.manager, batch.id)) };
  }

  async require(tenantId: string, id: string): Promise<BatchView> {
    const view = await this.byId(tenantId, id);
    if (!view) throw new AppError("NOT_FOUND", "Batch not found");
    return view;
  }

  /** The batch's jobs as of one moment, each with the sequence of its last event (where a follower starts). */
  async jobStates(batchId: string): Promise<(BatchJobState & { lastSequence: number })[]> {
    return await this.deps.dataSource.transaction("REPEATABLE READ", (manager) =>
      batchJobStates(manager, batchId),
    );
  }

  /** A page of the batch's job ids in input order. */
  async pageJobIds(batchId: string, args: PageArgs): Promise<Page<{ jobId: string; position: number }>> {
    const limit = pageSize(args.first);
    const after = args.after ? decodeBatchCursor(args.after) : -1;
    const rows: { job_id: string; position: number }[] = await this.deps.dataSource.query(
      `SELECT job_id, position FROM video_job_batch_item WHERE batch_id = $1 AND position > $2
        ORDER BY position LIMIT $3`,
      [batchId, after, limit + 1],
    );
    return {
      nodes: rows.slice(0, limit).map((row) => ({ jobId: row.job_id, position: row.position })),
      hasNextPage: rows.length > limit,
    };
  }

  /** Checks every input; all problems are reported together, each with its input's index. */
  private async prepareAll(tenantId: string, inputs: readonly CreateVideoJobInput[]): Promise<NewVideoJob[]> {
    const prepared: NewVideoJob[] = [];
    const problems: { index: number; code: string; message: string }[] = [];
    for (const [index, input] of inputs.entries()) {
      try {
        prepared.push(await this.deps.pipeline.prepare(tenantId, input));
      } catch (error) {
        if (!isAppError(error) || (error.code !== "BAD_USER_INPUT" && error.code !== "NOT_FOUND"))
          throw error;
        problems.push({ index, code: error.code, message: error.message });
      }
    }
    if (problems.length > 0) {
      const summary = problems.map((problem) => `inputs[${problem.index}]: ${problem.message}`).join("; ");
      throw new AppError("BAD_USER_INPUT", `No job was created: ${summary}`, { details: { problems } });
    }
    return prepared;
  }
}
