import type { Logger } from "../logger.js";

/** Events a stream may hold for a client that is slower than the job; beyond that it is dropped. */
export const MAX_QUEUED_EVENTS = 10_000;
/** A client that has taken nothing for this long while events wait counts as stalled and is dropped. */
export const STALLED_AFTER_MS = 15_000;

/** What the transport (src/http/websocket.ts) lets a stream know about its socket. */
export interface StreamTransport {
  /** True when the socket's send buffer is over its bound: the client is not keeping up. */
  overloaded(): boolean;
  /** Closes the socket (a slow consumer is dropped, never buffered without bound). */
  drop(reason: string): void;
}

/** Where a stream goes: its socket (when there is one) and a logger for its fate. */
export interface StreamSink {
  transport?: StreamTransport;
  logger: Logger;
}

/**
 * A bounded async iterator between a watcher (push) and a transport (pull). A consumer that
 * stalls, or whose socket backs up, is dropped rather than buffered for without bound.
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ending = false;
  private done = false;
  /** When the consumer last took an item (or the stream started). */
  private lastPull = Date.now();

  constructor(
    private readonly sink: StreamSink,
    private readonly onClose: () => void,
  ) {}

  /** Queues an item; `last` ends the stream after it. */
  push(item: T, last = false): void {
    if (this.done || this.ending) return;
    if (last) this.ending = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    const stalled = this.items.length > 0 && Date.now() - this.lastPull > STALLED_AFTER_MS;
    if (stalled || this.items.length >= MAX_QUEUED_EVENTS || this.sink.transport?.overloaded()) {
      this.sink.logger.warn({ queued: this.items.length, stalled }, "dropping a slow subscriber");
      this.finish();
      this.sink.transport?.drop("slow consumer");
      return;
    }
    this.items.push(item);
  }

  /** Ends the stream after what is queued. */
  end(): void {
    this.ending = true;
    if (this.items.length === 0) this.finish();
  }

  async next(): Promise<IteratorResult<T>> {
    this.lastPull = Date.now();
    if (this.items.length > 0) return { value: this.items.shift()!, done: false };
    if (this.done || this.ending) {
      this.finish();
      return { value: undefined, done: true };
    }
    return await new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<T>> {
    this.finish();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<T>> {
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
