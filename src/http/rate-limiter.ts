/** Buckets idle for this long are full again (even one charged down to -perMinute) and can be forgotten. */
const IDLE_MS = 120_000;
/** Beyond this many buckets, idle ones are pruned (a flood of distinct keys or addresses stays bounded). */
const PRUNE_ABOVE = 100_000;

/**
 * Token buckets by key, in memory (per process): `perMinute` units a minute with bursts of the
 * same size. A request usually takes one unit; a query's cost takes as many as it costs. Other
 * keys are unaffected by one key's traffic. `perMinute` 0 turns the limit off.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Takes `amount` units; returns 0 when allowed, else the seconds until they would be there (nothing taken). */
  take(key: string, amount = 1): number {
    if (this.perMinute <= 0 || amount <= 0) return 0;
    const bucket = this.refill(key);
    if (bucket.tokens >= amount) {
      bucket.tokens -= amount;
      return 0;
    }
    return this.secondsUntil(bucket.tokens, amount);
  }

  /** Like `take`, but always takes (the bucket may go negative): for work already done, such as a failed login. */
  charge(key: string, amount = 1): void {
    if (this.perMinute <= 0 || amount <= 0) return;
    const bucket = this.refill(key);
    bucket.tokens = Math.max(-this.perMinute, bucket.tokens - amount);
  }

  /** 0 when `key` has a unit left, else the seconds until it has; takes nothing. */
  wait(key: string): number {
    if (this.perMinute <= 0) return 0;
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(
      this.perMinute,
      bucket.tokens + (this.now() - bucket.updatedAt) * (this.perMinute / 60_000),
    );
    return tokens >= 1 ? 0 : this.secondsUntil(tokens, 1);
  }

  private refill(key: string): { tokens: number; updatedAt: number } {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= PRUNE_ABOVE) this.prune(now);
      bucket = { tokens: this.perMinute, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(
      this.perMinute,
      bucket.tokens + (now - bucket.updatedAt) * (this.perMinute / 60_000),
    );
    bucket.updatedAt = now;
    return bucket;
  }

  private secondsUntil(tokens: number, amount: number): number {
    const ratePerMs = this.perMinute / 60_000;
    return Math.max(1, Math.ceil((amount - tokens) / ratePerMs / 1000));
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedAt > IDLE_MS) this.buckets.delete(key);
  }
}
