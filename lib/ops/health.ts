/**
 * Health checks: liveness (the process answers) and readiness (KV answers
 * within a deadline and the server is not shutting down).
 *
 * @module
 */

/** What `/readyz` reports. */
export interface Readiness {
  ready: boolean;
  /** Why not, as a sentence; absent when ready. */
  reason?: string;
  /** How long the KV read took (ms), when it answered. */
  kvMs?: number;
}

/**
 * Checks that KV answers a read within `timeoutMs` and that `shutdown` has
 * not aborted.
 *
 * @example
 * ```ts
 * import { checkReady } from "./health.ts";
 * const kv = await Deno.openKv(":memory:");
 * console.log((await checkReady(kv, new AbortController().signal)).ready); // true
 * kv.close();
 * ```
 */
export async function checkReady(
  kv: Deno.Kv,
  shutdown: AbortSignal,
  timeoutMs = 2_000,
): Promise<Readiness> {
  if (shutdown.aborted) return { ready: false, reason: "The server is shutting down." };
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([kv.get(["meta", "schema"]).then(() => "ok" as const), timeout]);
    if (outcome === "timeout") {
      return { ready: false, reason: `KV did not answer within ${timeoutMs} ms.` };
    }
  } catch (error) {
    return { ready: false, reason: `KV cannot be read: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
  if (shutdown.aborted) return { ready: false, reason: "The server is shutting down." };
  return { ready: true, kvMs: Math.round((performance.now() - started) * 100) / 100 };
}
