import type { Logger } from "../logger.js";

/** Events a stream may hold for a client that is slower than the job; beyond that it is dropped. */
export const MAX_QUEUED_EVENTS = 10_000;

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
 * A bounded async iterator between a watcher (push) and a transport (pull). A consumer whose
 * queue fills, or whose socket is over its bound, is dropped rather than buffered for without
 * bound. Whether a socket's client still reads at all is the transport's to judge (it watches
 * its sends, its buffer and its pongs: src/http/websocket-transport.ts), not this queue's.
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ending = false;
  private done = false;

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
    const full = this.items.length >= MAX_QUEUED_EVENTS;
    if (full || this.sink.transport?.overloaded()) {
      const reason = full ? "slow consumer: event queue full" : "slow consumer: send buffer over its bound";
      this.finish();
      // The transport says so once per socket; a stream without one has only its own logger.
      if (this.sink.transport) this.sink.transport.drop(reason);
      else this.sink.logger.warn({ queued: MAX_QUEUED_EVENTS }, "dropping a slow subscriber");
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
