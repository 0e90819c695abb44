import pg from "pg";
import { type DataSource, In } from "typeorm";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import type { JobStatus } from "../db/entities/video-job.entity.js";
import type { Logger } from "../logger.js";
import { JOB_EVENTS_CHANNEL, type JobEventType } from "./job-events.js";

/** One `job_event` row, as the listener hands it to watchers. */
export interface JobEventRecord {
  id: string;
  jobId: string;
  tenantId: string;
  campaignId: string;
  sequence: number;
  type: JobEventType;
  payload: Record<string, unknown>;
  createdAt: Date;
  /** The job's status and stage as of this event (folded over the log, not the row's current value). */
  status: JobStatus;
  stage: string | null;
}

/** What a job watcher receives: new events in sequence order, plus the job and its scenes as read once for every watcher. */
export interface JobEventBatch {
  events: JobEventRecord[];
  job: VideoJobEntity | null;
  scenes: SceneEntity[];
}

export interface JobWatcher {
  /** Highest sequence this watcher has been given; reads always start after it. */
  readonly lastSequence: number;
  close(): void;
}

export interface CampaignWatcher {
  close(): void;
}

/** Lifecycle events a campaign dashboard cares about. */
export const CAMPAIGN_ACTIVITY_TYPES: readonly JobEventType[] = [
  "CREATED",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
];

interface JobWatch {
  last: number;
  deliver(batch: JobEventBatch): void;
}

interface CampaignWatch {
  campaignId: string;
  delivered: Set<string>;
  floorId: bigint;
  deliver(events: JobEventRecord[]): void;
}

interface RawEvent {
  id: string;
  job_id: string;
  tenant_id: string;
  campaign_id: string;
  sequence: number;
  type: JobEventType;
  payload: Record<string, unknown>;
  created_at: Date;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
/** Safety net: even with no NOTIFY, watched jobs are re-read this often (a NOTIFY is only a wake-up). */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * The one LISTEN connection of an API process. A NOTIFY (`jobId:sequence`) only wakes a job up:
 * every delivery is read from `job_event` with `sequence > last` per watcher, in one query for all
 * woken jobs, so a lost or duplicated notification (or a database restart: reconnect replays
 * everything newer) never loses, repeats or reorders an event.
 */
export class JobEventListener {
  private client: pg.Client | undefined;
  private started = false;
  private stopped = false;
  private closed = false;
  private connecting: Promise<void> | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly jobs = new Map<string, Set<JobWatch>>();
  private readonly campaigns = new Set<CampaignWatch>();
  private readonly woken = new Set<string>();
  private campaignsWoken = false;
  private pumping: Promise<void> | undefined;
  /** Status/stage as of a sequence, per job: saves a fold query when every watcher is in step. */
  private readonly folded = new Map<string, { sequence: number; status: JobStatus; stage: string | null }>();
  /** Counters for /metrics and the benchmark. */
  readonly stats = { notifications: 0, reads: 0, reconnects: 0, delivered: 0 };

  constructor(private readonly deps: { connectionString: string; dataSource: DataSource; logger: Logger }) {}

  /** Connects the LISTEN client (idempotent); afterwards it reconnects by itself until `stop()`. */
  async start(): Promise<void> {
    if (this.closed) return;
    if (this.started) return await this.connecting;
    this.started = true;
    this.stopped = false;
    this.sweepTimer = setInterval(() => this.wakeAll(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    this.connecting = this.connect().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, "job event listener could not connect; retrying");
      this.scheduleReconnect();
    });
    await this.connecting;
  }

  /** Disconnects for good: a subscription arriving during shutdown does not reconnect it. */
  async stop(): Promise<void> {
    this.closed = true;
    this.stopped = true;
    this.started = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
    await this.pumping?.catch(() => undefined);
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  get watcherCount(): number {
    let count = this.campaigns.size;
    for (const set of this.jobs.values()) count += set.size;
    return count;
  }

  /** Delivers every event of `jobId` after `afterSequence`, in order, once each, until closed. */
  watchJob(jobId: string, afterSequence: number, deliver: (batch: JobEventBatch) => void): JobWatcher {
    void this.start();
    const watch: JobWatch = { last: afterSequence, deliver };
    let set = this.jobs.get(jobId);
    if (!set) {
      set = new Set();
      this.jobs.set(jobId, set);
    }
    set.add(watch);
    this.wake(jobId);
    return {
      get lastSequence() {
        return watch.last;
      },
      close: () => {
        const current = this.jobs.get(jobId);
        current?.delete(watch);
        if (current?.size === 0) {
          this.jobs.delete(jobId);
          this.folded.delete(jobId);
        }
      },
    };
  }

  /** Delivers lifecycle events (created, finished) of the campaign's jobs appended after `floorId`. */
  watchCampaign(
    campaignId: string,
    floorId: string,
    deliver: (events: JobEventRecord[]) => void,
  ): CampaignWatcher {
    void this.start();
    const watch: CampaignWatch = { campaignId, delivered: new Set(), floorId: BigInt(floorId), deliver };
    this.campaigns.add(watch);
    this.campaignsWoken = true;
    this.schedulePump();
    return { close: () => void this.campaigns.delete(watch) };
  }

  /** The newest event id of a campaign: where a campaign watcher starts. */
  async campaignFloor(campaignId: string): Promise<string> {
    const [row] = await this.deps.dataSource.query(
      "SELECT COALESCE(MAX(id), 0)::text AS id FROM job_event WHERE campaign_id = $1",
      [campaignId],
    );
    return (row as { id: string }).id;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.deps.connectionString,
      application_name: "propvid-listener",
      keepAlive: true,
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    client.on("notification", (message) => {
      if (message.channel !== JOB_EVENTS_CHANNEL || !message.payload) return;
      this.stats.notifications++;
      const [jobId, sequence] = message.payload.split(":");
      if (!jobId) return;
      // Already delivered to everyone (a replayed or duplicate wake-up): nothing to read.
      const set = this.jobs.get(jobId);
      const seq = Number(sequence);
      if (set && [...set].every((watch) => watch.last >= seq)) {
        if (this.campaigns.size > 0 && (seq === 1 || Number.isNaN(seq))) this.wakeCampaigns();
        return;
      }
      if (set) this.wake(jobId);
      if (this.campaigns.size > 0) this.wakeCampaigns();
    });
    await client.connect();
    await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    // Whatever was appended while we were not listening is in the table: read it now.
    this.wakeAll();
  }

  private lost(client: pg.Client, error: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopped) return;
    this.deps.logger.warn({ err: error }, "job event listener lost its connection; reconnecting");
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.stats.reconnects++;
      this.connect().catch((error: unknown) => {
        this.deps.logger.debug({ err: error }, "job event listener reconnect failed");
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  private wake(jobId: string): void {
    this.woken.add(jobId);
    this.schedulePump();
  }

  private wakeCampaigns(): void {
    this.campaignsWoken = true;
    this.schedulePump();
  }

  private wakeAll(): void {
    for (const jobId of this.jobs.keys()) this.woken.add(jobId);
    if (this.campaigns.size > 0) this.campaignsWoken = true;
    this.schedulePump();
  }

  /** One pump at a time: reads never overlap, so a watcher's `last` only moves forward. */
  private schedulePump(): void {
    if (this.pumping) return;
    this.pumping = (async () => {
      // Let a burst of notifications coalesce into one read.
      await new Promise((resolve) => setImmediate(resolve));
      while (!this.stopped && (this.woken.size > 0 || this.campaignsWoken)) {
        const jobIds = [...this.woken].filter((jobId) => this.jobs.has(jobId));
        this.woken.clear();
        const campaigns = this.campaignsWoken;
        this.campaignsWoken = false;
        try {
          if (jobIds.length > 0) await this.readJobs(jobIds);
          if (campaigns && this.campaigns.size > 0) await this.readCampaigns();
        } catch (error) {
          // The database is away: put the work back; the reconnect (or the sweep) wakes it again.
          for (const jobId of jobIds) this.woken.add(jobId);
          if (campaigns) this.campaignsWoken = true;
          this.deps.logger.debug({ err: error }, "job event read failed; will retry");
          await new Promise((resolve) => setTimeout(resolve, 500));
          if (!this.connected) break;
        }
      }
    })().finally(() => {
      this.pumping = undefined;
      if (!this.stopped && this.connected && (this.woken.size > 0 || this.campaignsWoken))
        this.schedulePump();
    });
  }

  private async readJobs(jobIds: string[]): Promise<void> {
    // Only the watchers present now are served by this read (a newer one may want older events: its own wake-up reads them).
    const watchers = new Map(jobIds.map((jobId) => [jobId, [...this.jobs.get(jobId)!]]));
    const afters = jobIds.map((jobId) => Math.min(...watchers.get(jobId)!.map((watch) => watch.last)));
    this.stats.reads++;
    const rows: RawEvent[] = await this.deps.dataSource.query(
      `SELECT e.id::text AS id, e.job_id, e.tenant_id, e.campaign_id, e.sequence, e.type, e.payload, e.created_at
         FROM job_event e
         JOIN unnest($1::uuid[], $2::int[]) AS w(job_id, after) ON e.job_id = w.job_id AND e.sequence > w.after
        ORDER BY e.job_id, e.sequence`,
      [jobIds, afters],
    );
    if (rows.length === 0) return;
    const byJob = new Map<string, RawEvent[]>();
    for (const row of rows) byJob.set(row.job_id, [...(byJob.get(row.job_id) ?? []), row]);
    const ids = [...byJob.keys()];
    const [jobs, scenes] = await Promise.all([
      this.deps.dataSource.getRepository(VideoJobEntity).findBy({ id: In(ids) }),
      this.deps.dataSource
        .getRepository(SceneEntity)
        .find({ where: { jobId: In(ids) }, order: { index: "ASC" } }),
    ]);
    for (const [jobId, raw] of byJob) {
      const job = jobs.find((candidate) => candidate.id === jobId) ?? null;
      const events = await this.fold(jobId, afters[jobIds.indexOf(jobId)]!, raw, job);
      const batch = { job, scenes: scenes.filter((scene) => scene.jobId === jobId) };
      const current = this.jobs.get(jobId);
      for (const watch of watchers.get(jobId) ?? []) {
        if (!current?.has(watch)) continue;
        const fresh = events.filter((event) => event.sequence > watch.last);
        if (fresh.length === 0) continue;
        watch.last = fresh[fresh.length - 1]!.sequence;
        this.stats.delivered += fresh.length;
        try {
          watch.deliver({ ...batch, events: fresh });
        } catch (error) {
          this.deps.logger.error({ err: error, jobId }, "job event watcher threw");
        }
      }
    }
  }

  /** Attaches the status and stage as of each event, carried forward from the last event that set them. */
  private async fold(
    jobId: string,
    after: number,
    raw: RawEvent[],
    job: VideoJobEntity | null,
  ): Promise<JobEventRecord[]> {
    let state = this.folded.get(jobId);
    if (!state || state.sequence !== after) {
      const [row] = await this.deps.dataSource.query(
        `SELECT (SELECT payload->>'status' FROM job_event WHERE job_id = $1 AND sequence <= $2 AND payload ? 'status' AND type <> 'SCENE_UPDATED'
                  ORDER BY sequence DESC LIMIT 1) AS status,
                (SELECT payload->>'stage' FROM job_event WHERE job_id = $1 AND sequence <= $2 AND payload ? 'stage' AND type <> 'SCENE_UPDATED'
                  ORDER BY sequence DESC LIMIT 1) AS stage`,
        [jobId, after],
      );
      const { status, stage } = row as { status: JobStatus | null; stage: string | null };
      state = {
        sequence: after,
        status: status ?? (after === 0 ? "QUEUED" : (job?.status ?? "QUEUED")),
        stage,
      };
    }
    const events: JobEventRecord[] = [];
    let { status, stage } = state;
    for (const row of raw) {
      // A scene event's `status` is the scene's, not the job's.
      if (row.type !== "SCENE_UPDATED") {
        if (typeof row.payload.status === "string") status = row.payload.status as JobStatus;
        if (typeof row.payload.stage === "string") stage = row.payload.stage;
      }
      events.push(toRecord(row, status, stage));
    }
    this.folded.set(jobId, { sequence: raw[raw.length - 1]!.sequence, status, stage });
    return events;
  }

  private async readCampaigns(): Promise<void> {
    const watches = [...this.campaigns];
    const campaignIds = [...new Set(watches.map((watch) => watch.campaignId))];
    let floor = watches[0]!.floorId;
    for (const watch of watches) if (watch.floorId < floor) floor = watch.floorId;
    this.stats.reads++;
    const rows: RawEvent[] = await this.deps.dataSource.query(
      `SELECT id::text AS id, job_id, tenant_id, campaign_id, sequence, type, payload, created_at
         FROM job_event
        WHERE campaign_id = ANY($1::uuid[]) AND id > $2 AND type = ANY($3::text[])
        ORDER BY id`,
      [campaignIds, floor.toString(), CAMPAIGN_ACTIVITY_TYPES],
    );
    for (const watch of watches) {
      const fresh = rows
        .filter(
          (row) =>
            row.campaign_id === watch.campaignId &&
            BigInt(row.id) > watch.floorId &&
            !watch.delivered.has(row.id),
        )
        .map((row) =>
          toRecord(
            row,
            (typeof row.payload.status === "string" ? row.payload.status : "QUEUED") as JobStatus,
            null,
          ),
        );
      if (fresh.length === 0) continue;
      for (const event of fresh) watch.delivered.add(event.id);
      this.stats.delivered += fresh.length;
      watch.deliver(fresh);
    }
  }
}

/** A job and its scenes read in one repeatable-read transaction: consistent with `job.lastSequence`. */
export async function readJobSnapshot(
  dataSource: DataSource,
  jobId: string,
): Promise<{ job: VideoJobEntity; scenes: SceneEntity[] } | null> {
  return await dataSource.transaction("REPEATABLE READ", async (manager) => {
    const job = await manager.getRepository(VideoJobEntity).findOneBy({ id: jobId });
    if (!job) return null;
    const scenes = await manager
      .getRepository(SceneEntity)
      .find({ where: { jobId }, order: { index: "ASC" } });
    return { job, scenes };
  });
}

/** An event row as delivered, with the job's status and stage as of that event. */
function toRecord(row: RawEvent, status: JobStatus, stage: string | null): JobEventRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    tenantId: row.tenant_id,
    campaignId: row.campaign_id,
    sequence: row.sequence,
    type: row.type,
    payload: row.payload,
    createdAt: row.created_at,
    status,
    stage,
  };
}
