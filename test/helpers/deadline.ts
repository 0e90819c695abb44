import { setTimeout as sleep } from "node:timers/promises";

/**
 * `promise`, or a rejection naming `what` once `ms` have passed. The deadline's timer is cleared
 * as soon as the race is decided: a pending 240 s timer once kept a test file's process (and its
 * slot in the run, scripts/test.mjs) alive for minutes after its last test had passed.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const controller = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: controller.signal }).then(() => {
        throw new Error(`${what} (waited ${ms} ms)`);
      }),
    ]);
  } finally {
    controller.abort();
  }
}

/**
 * Polls `probe` every `intervalMs` until it gives something other than `undefined`, which is
 * returned; throws naming `what` once `timeoutMs` have passed.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
