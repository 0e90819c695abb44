import { AppError } from "../errors.js";

/**
 * How many uploads run at once, per process and per key. Each one holds a database connection
 * (its large object is written inside a transaction) and a little memory while it streams, so
 * both are bounded; an upload over either bound is refused at once with 429, never queued.
 */
export class UploadSlots {
  #running = 0;
  readonly #perKey = new Map<string, number>();

  constructor(private readonly limits: { concurrency: number; concurrencyPerKey: number }) {}

  /** Takes a slot for `key` (an API key id, or `tenant:<id>` for signed URLs); throws RATE_LIMITED. */
  acquire(key: string): () => void {
    const forKey = this.#perKey.get(key) ?? 0;
    if (forKey >= this.limits.concurrencyPerKey || this.#running >= this.limits.concurrency) {
      const scope = forKey >= this.limits.concurrencyPerKey ? "for this key" : "on this server";
      throw new AppError("RATE_LIMITED", `Too many uploads at once ${scope}; retry when one has finished`, {
        details: { retryAfterSeconds: 1 },
      });
    }
    this.#running++;
    this.#perKey.set(key, forKey + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      const left = (this.#perKey.get(key) ?? 1) - 1;
      if (left > 0) this.#perKey.set(key, left);
      else this.#perKey.delete(key);
    };
  }

  /** Uploads running now (for tests and metrics). */
  get running(): number {
    return this.#running;
  }
}
