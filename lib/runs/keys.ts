/**
 * Every KV key of runs, in one place: the run records, the index of running
 * runs, the event log and its head, instance leases and the cancel inbox.
 * Stores and the registry build keys only through these functions, so the
 * layout of runs in KV can be read (and changed) here alone.
 *
 * @example
 * ```ts
 * import { runKeys } from "./keys.ts";
 * console.log(runKeys.record("p1", "r1")); // ["runs", "p1", "r1"]
 * console.log(runKeys.event("r1", 3, 0)); // ["run_events", "r1", 3, 0]
 * ```
 *
 * @module
 */

/** The KV keys of runs. */
export const runKeys = {
  /** A run's record. */
  record: (projectId: string, runId: string): Deno.KvKey => ["runs", projectId, runId],
  /** All run records of a project, in order of creation. */
  projectRuns: (projectId: string): Deno.KvKey => ["runs", projectId],
  /**
   * The index entry of a running run, under its owner: `{projectId, owner}`. Keyed by owner so that an
   * instance looking for orphans reads only other instances' runs. {@linkcode runningRunId} reads it and
   * the older form.
   */
  running: (owner: string, runId: string): Deno.KvKey => ["running", owner, runId],
  /** The index entry of a running run as Lantern keyed it before 2026-11-30, without its owner. */
  runningBefore: (runId: string): Deno.KvKey => ["running", runId],
  /** The index of running runs. */
  allRunning: (): Deno.KvKey => ["running"],
  /** One part of one event of a run's log. */
  event: (runId: string, seq: number, part: number): Deno.KvKey => ["run_events", runId, seq, part],
  /** Every event of a run's log. */
  events: (runId: string): Deno.KvKey => ["run_events", runId],
  /** The head of a run's log, which changes with every write (other instances watch it). */
  head: (runId: string): Deno.KvKey => ["run_head", runId],
  /** An instance's lease. */
  lease: (instanceId: string): Deno.KvKey => ["instances", instanceId],
  /** A cancel request for a run, addressed to its owner. */
  cancel: (owner: string, runId: string): Deno.KvKey => ["cancel", owner, runId],
  /** Every cancel request addressed to an owner. */
  cancels: (owner: string): Deno.KvKey => ["cancel", owner],
  /** The key an owner watches to learn of new cancel requests. */
  inbox: (owner: string): Deno.KvKey => ["inbox", owner],
} as const;

/**
 * The run id of an entry of the running index, whichever way it was keyed:
 * `["running", owner, runId]`, or `["running", runId]` as Lantern wrote it
 * before the index was keyed by owner.
 *
 * @example
 * ```ts
 * import { runningRunId } from "./keys.ts";
 * console.log(runningRunId(["running", "i1", "r1"]), runningRunId(["running", "r0"])); // r1 r0
 * ```
 */
export function runningRunId(key: Deno.KvKey): string {
  return String(key.length >= 3 ? key[2] : key[1]);
}
