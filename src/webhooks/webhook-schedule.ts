/**
 * The delivery policy of outbound webhooks, in one place. A delivery is an HTTP POST that must
 * answer 2xx within the timeout; anything else (another status, a redirect, a timeout, a refused
 * connection) is retried after the next delay of the schedule, whose first retry comes within
 * 10 s: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about 28 hours.
 */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;

/** Whole attempt: connect, send, the answer's head and its excerpt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How much of a receiver's answer the delivery log keeps. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/** An endpoint whose every attempt has failed for this long is disabled (the tenant sees why). */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600 * 1000;

/** After a rotation the old secret keeps signing (beside the new one) this long. */
export const SECRET_ROTATION_GRACE_MS = 24 * 3600 * 1000;

/** Signed URLs in a body (the video, its poster) are made at each attempt and valid this long. */
export const SIGNED_URL_LIFETIME_SECONDS = 24 * 3600;

/** Endpoints a tenant may have. */
export const MAX_ENDPOINTS_PER_TENANT = 20;

/**
 * The wait before the next attempt after `attemptsMade` attempts of an automatic delivery
 * have failed; null when the schedule is exhausted (the message is then FAILED).
 */
export function nextRetryDelaySeconds(attemptsMade: number): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) return RETRY_SCHEDULE_SECONDS[0]!;
  return RETRY_SCHEDULE_SECONDS[attemptsMade - 1] ?? null;
}

/** Whether an endpoint failing since `failingSince` has failed long enough to be disabled. */
export function shouldDisable(failingSince: Date, now: Date): boolean {
  return now.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS;
}
