/**
 * An abortable pause.
 *
 * @module
 */

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it
 * aborts. A pause of 0 returns at once without touching the timer queue.
 *
 * @example
 * ```ts
 * import { sleep } from "./sleep.ts";
 * await sleep(5, AbortSignal.timeout(1000));
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
