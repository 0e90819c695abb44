import type { Logger } from "../logger.js";
import { JobEventDelivery } from "./job-event-delivery.js";
import type { JobEventReader, JobEventRecord } from "./job-event-reader.js";
import { JOB_EVENTS_CHANNEL } from "./job-events.js";
import type { NotificationListener } from "./notification-listener.js";

export interface JobWatcher {
  /** Highest sequence this watcher has been given; reads always start after it. */
  readonly lastSequence: number;
  close(): void;
}

export interface CampaignWatcher {
  close(): void;
}

interface JobWatch {
  last: number;
  deliver(deliveries: JobEventDelivery[]): void;
}

interface CampaignWatch {
  campaignId: string;
  delivered: Set<string>;
  floorId: bigint;
  deliver(deliveries: JobEventDelivery[]): void;
}

/** Safety net: even with no NOTIFY, watched jobs are re-read this often (a NOTIFY is only a wake-up). */
const SWEEP_INTERVAL_MS = 10_000;
/** After a failed read, wait this long before the next try (the database may be restarting). */
const RETRY_READ_MS = 500;

/**
 * Who in this process watches which job or campaign, and the pump that serves them. A NOTIFY
 * (`jobId:sequence`) only wakes a job up: every delivery is read from `job_event` with
 * `sequence > last` per watcher, in one query for all woken jobs, so a lost or duplicated
 * notification (or a database restart: a reconnection wakes everything) never loses, repeats or
 * reorders an event.
 */
export class JobWatchRegistry {
  private started = false;
  private stopped = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly jobs = new Map<string, Set<JobWatch>>();
  private readonly campaigns = new Set<CampaignWatch>();
  private readonly woken = new Set<string>();
  private campaignsWoken = false;
  private pumping: Promise<void> | undefined;
  /** Counters for /metrics and the benchmark. */
  readonly stats = { reads: 0, delivered: 0 };

  constructor(
    private readonly deps: { listener: NotificationListener; reader: JobEventReader; logger: Logger },
  ) {}

  /** Listens for job events (idempotent; also done by the first watch). */
  async start(): Promise<void> {
    if (!this.started && !this.stopped) {
      this.started = true;
      this.deps.listener.on(JOB_EVENTS_CHANNEL, (payload) => this.notified(payload));
      this.deps.listener.onConnected(() => this.wakeAll());
      this.sweepTimer = setInterval(() => this.wakeAll(), SWEEP_INTERVAL_MS);
      this.sweepTimer.unref();
    }
    await this.deps.listener.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.pumping?.catch(() => undefined);
  }

  get watcherCount(): number {
    let count = this.campaigns.size;
    for (const set of this.jobs.values()) count += set.size;
    return count;
  }

  /** Delivers every event of `jobId` after `afterSequence`, in order, once each, until closed. */
  watchJob(
    jobId: string,
    afterSequence: number,
    deliver: (deliveries: JobEventDelivery[]) => void,
  ): JobWatcher {
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
        if (current?.size === 0) this.jobs.delete(jobId);
      },
    };
  }

  /** Delivers lifecycle events (created, finished) of the campaign's jobs appended after `floorId`. */
  watchCampaign(
    campaignId: string,
    floorId: bigint,
    deliver: (deliveries: JobEventDelivery[]) => void,
  ): CampaignWatcher {
    void this.start();
    const watch: CampaignWatch = { campaignId, delivered: new Set(), floorId, deliver };
    this.campaigns.add(watch);
    this.wakeCampaigns();
    return { close: () => void this.campaigns.delete(watch) };
  }

  private notified(payload: string): void {
    const [jobId, sequence] = payload.split(":");
    if (!jobId) return;
    const set = this.jobs.get(jobId);
    const seq = Number(sequence);
    // Already delivered to everyone (a replayed or duplicate wake-up): nothing to read.
    if (set && [...set].every((watch) => watch.last >= seq)) {
      if (this.campaigns.size > 0 && (seq === 1 || Number.isNaN(seq))) this.wakeCampaigns();
      return;
    }
    if (set) this.wake(jobId);
    if (this.campaigns.size > 0) this.wakeCampaigns();
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
    if (this.pumping || this.stopped) return;
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
          // The database is away: put the work back; the reconnection (or the sweep) wakes it again.
          for (const jobId of jobIds) this.woken.add(jobId);
          if (campaigns) this.campaignsWoken = true;
          this.deps.logger.debug({ err: error }, "job event read failed; will retry");
          await new Promise((resolve) => setTimeout(resolve, RETRY_READ_MS));
          if (!this.deps.listener.connected) break;
        }
      }
    })().finally(() => {
      this.pumping = undefined;
      if (!this.stopped && this.deps.listener.connected && (this.woken.size > 0 || this.campaignsWoken))
        this.schedulePump();
    });
  }

  private async readJobs(jobIds: string[]): Promise<void> {
    // Only the watchers present now are served by this read (a newer one may want older events: its own wake-up reads them).
    const watchers = new Map(jobIds.map((jobId) => [jobId, [...this.jobs.get(jobId)!]]));
    const watches = jobIds.map((jobId) => ({
      jobId,
      after: Math.min(...watchers.get(jobId)!.map((watch) => watch.last)),
    }));
    this.stats.reads++;
    const records = await this.deps.reader.after(watches);
    if (records.length === 0) return;
    const byJob = groupBy(records, (record) => record.jobId);
    const jobs = await this.deps.reader.jobs([...byJob.keys()]);
    for (const [jobId, events] of byJob) {
      const read = jobs.get(jobId);
      const deliveries = events.map(
        (event) => new JobEventDelivery(event, read?.job ?? null, read?.scenes ?? []),
      );
      const current = this.jobs.get(jobId);
      for (const watch of watchers.get(jobId) ?? []) {
        if (!current?.has(watch)) continue;
        const fresh = deliveries.filter((delivery) => delivery.event.sequence > watch.last);
        if (fresh.length === 0) continue;
        watch.last = fresh[fresh.length - 1]!.event.sequence;
        this.handOver(watch, fresh, jobId);
      }
    }
  }

  private async readCampaigns(): Promise<void> {
    const watches = [...this.campaigns];
    const campaignIds = [...new Set(watches.map((watch) => watch.campaignId))];
    let floor = watches[0]!.floorId;
    for (const watch of watches) if (watch.floorId < floor) floor = watch.floorId;
    this.stats.reads++;
    const records = await this.deps.reader.campaignActivity(campaignIds, floor);
    if (records.length === 0) return;
    const jobIds = [...new Set(records.map((record) => record.jobId))];
    const jobs = await this.deps.reader.jobs(jobIds, { scenes: false });
    for (const watch of watches) {
      const fresh = records.filter(
        (record) =>
          record.campaignId === watch.campaignId &&
          BigInt(record.id) > watch.floorId &&
          !watch.delivered.has(record.id),
      );
      if (fresh.length === 0) continue;
      for (const record of fresh) watch.delivered.add(record.id);
      const deliveries = fresh.map(
        (record) => new JobEventDelivery(record, jobs.get(record.jobId)?.job ?? null, null),
      );
      this.handOver(watch, deliveries, watch.campaignId);
    }
  }

  private handOver(watch: JobWatch | CampaignWatch, deliveries: JobEventDelivery[], key: string): void {
    this.stats.delivered += deliveries.length;
    try {
      watch.deliver(deliveries);
    } catch (error) {
      this.deps.logger.error({ err: error, key }, "job event watcher threw");
    }
  }
}

function groupBy(records: JobEventRecord[], key: (record: JobEventRecord) => string) {
  const groups = new Map<string, JobEventRecord[]>();
  for (const record of records) {
    const group = groups.get(key(record));
    if (group) group.push(record);
    else groups.set(key(record), [record]);
  }
  return groups;
}
