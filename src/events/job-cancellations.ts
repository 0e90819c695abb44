import { EventEmitter } from "node:events";
import type { DataSource, EntityManager } from "typeorm";
import type { NotificationListener } from "./notification-listener.js";

/** The channel a cancelled job's id is announced on, so its running parts stop at once. */
export const JOB_CANCELLATIONS_CHANNEL = "propvid_job_cancellations";

/** Announces a cancellation when the caller's transaction commits (called by the cancel transition). */
export async function announceCancellation(manager: EntityManager, jobId: string): Promise<void> {
  await manager.query("SELECT pg_notify($1, $2)", [JOB_CANCELLATIONS_CHANNEL, jobId]);
}

/**
 * How a running part learns that its job was cancelled, in whichever process: at once from the
 * announcement on the process's LISTEN connection, and by reading the row (the fallback a
 * part's watcher polls, for an announcement missed while the connection was down).
 */
export class JobCancellations {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly dataSource: DataSource,
    listener?: Pick<NotificationListener, "on">,
  ) {
    listener?.on(JOB_CANCELLATIONS_CHANNEL, (jobId) => this.emitter.emit(jobId));
  }

  /** Whether a part of the job should stop: the job was cancelled, or deleted. */
  async isCancelled(jobId: string): Promise<boolean> {
    const [row] = await this.dataSource.query("SELECT status FROM video_job WHERE id = $1", [jobId]);
    return !row || row.status === "CANCELLED";
  }

  /** Calls `stop` as soon as the job's cancellation is announced; returns the unsubscribe. */
  onCancelled(jobId: string, stop: () => void): () => void {
    this.emitter.once(jobId, stop);
    return () => void this.emitter.off(jobId, stop);
  }
}
