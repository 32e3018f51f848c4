/**
 * Times every atomic commit on a KV handle (`lantern.kv.commit.duration`),
 * without changing what it does. Installed only when telemetry is on.
 *
 * @module
 */

import { lanternMetrics } from "./metrics.ts";

/**
 * Wraps `kv.atomic()` so that each operation's `commit()` is timed.
 *
 * @example
 * ```ts
 * import { timeKvCommits } from "./kv_metrics.ts";
 * const kv = timeKvCommits(await Deno.openKv(":memory:"));
 * console.log((await kv.atomic().set(["a"], 1).commit()).ok); // true
 * kv.close();
 * ```
 */
export function timeKvCommits(kv: Deno.Kv): Deno.Kv {
  const histogram = lanternMetrics().kvCommit;
  const atomic = kv.atomic.bind(kv);
  kv.atomic = () => {
    const op = atomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      const started = performance.now();
      let ok = false;
      try {
        const result = await commit();
        ok = result.ok;
        return result;
      } finally {
        histogram.record((performance.now() - started) / 1000, { "lantern.kv.ok": ok });
      }
    };
    return op;
  };
  return kv;
}
