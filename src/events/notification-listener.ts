import pg from "pg";
import type { Logger } from "../logger.js";

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;

type Handler = (payload: string) => void;

/**
 * The one LISTEN connection of a process. Job events (for an API's subscribers) and webhook
 * wake-ups (for a worker's waiting adapters) arrive on it, each on its channel. A NOTIFY is only
 * a wake-up: whoever listens reads the state itself, and is told after every (re)connection so
 * it can read what was announced while nobody listened. Reconnects with backoff until `stop()`.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  private started = false;
  private closed = false;
  private connecting: Promise<void> | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly channels = new Map<string, Set<Handler>>();
  private readonly reconnected = new Set<() => void>();
  /** Counters for /metrics and the benchmarks. */
  readonly stats = { notifications: 0, reconnects: 0 };

  constructor(
    private readonly deps: { connectionString: string; logger: Logger; applicationName?: string },
  ) {}

  /** Hands every NOTIFY payload on `channel` to `handler` (LISTENs at once when connected). */
  on(channel: string, handler: Handler): () => void {
    if (!CHANNEL_NAME.test(channel)) throw new Error(`bad channel name: ${channel}`);
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      this.client?.query(`LISTEN ${channel}`).catch((error: unknown) => this.lost(this.client, error));
    }
    handlers.add(handler);
    return () => void handlers.delete(handler);
  }

  /** Runs `handler` after every connection: anything announced before it was missed. */
  onConnected(handler: () => void): () => void {
    this.reconnected.add(handler);
    return () => void this.reconnected.delete(handler);
  }

  /** Connects (idempotent); afterwards it reconnects by itself until `stop()`. */
  async start(): Promise<void> {
    if (this.closed) return;
    if (this.started) return await this.connecting;
    this.started = true;
    this.connecting = this.connect().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, "notification listener could not connect; retrying");
      this.scheduleReconnect();
    });
    await this.connecting;
  }

  /** Disconnects for good: a caller arriving during shutdown does not reconnect it. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.deps.connectionString,
      application_name: this.deps.applicationName ?? "propvid-listener",
      keepAlive: true,
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    client.on("notification", (message) => {
      if (!message.payload) return;
      this.stats.notifications++;
      for (const handler of this.channels.get(message.channel) ?? []) {
        try {
          handler(message.payload);
        } catch (error) {
          this.deps.logger.error({ err: error, channel: message.channel }, "notification handler threw");
        }
      }
    });
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    for (const handler of this.reconnected) handler();
  }

  private lost(client: pg.Client | undefined, error: unknown): void {
    if (!client || this.client !== client) return;
    this.client = undefined;
    if (this.closed) return;
    this.deps.logger.warn({ err: error }, "notification listener lost its connection; reconnecting");
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.stats.reconnects++;
      this.connect().catch((error: unknown) => {
        this.deps.logger.debug({ err: error }, "notification listener reconnect failed");
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }
}
