/**
 * Waiting for a run rather than following it: its terminal event, its result,
 * or its record once it ends (the long-poll behind `?wait=N`). Each is a
 * follower of the run's feed like any stream, so it works wherever the run is
 * driven.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "./registry.ts";
 * import { runResult } from "./waiters.ts";
 * import { createStores } from "../store/mod.ts";
 * import { LocalEngine } from "../agent/local_engine.ts";
 *
 * const stores = createStores(await Deno.openKv(":memory:"));
 * const runs = new RunRegistry({ stores, engine: new LocalEngine(), runTtlMs: 60_000, leaseMs: 10_000 });
 * await runs.init();
 * const project = await stores.projects.create("Demo");
 * const run = await runs.start(project, "Remember that tea is at 4");
 * console.log((await runResult(runs, project.id, run.id)).message);
 * await runs.close(0);
 * stores.kv.close();
 * ```
 *
 * @module
 */

import type { ChatResult, RunEvent, RunRecord } from "../protocol.ts";
import { FeedCursor, followEvents } from "./cursor.ts";
import { RunFailed } from "./errors.ts";
import { ENDING_WORDS, errorOf, isTerminal, type TerminalEvent } from "./outcome.ts";
import type { HeldFeed } from "./remote.ts";

/** What the waiters need of the registry: a run's record and its feed. */
export interface Followable {
  /** A run's record, or null when the project has no such run. */
  get(projectId: string, runId: string): Promise<RunRecord | null>;
  /** The run's feed; throws a domain error for an unknown or expired run. */
  open(projectId: string, runId: string): Promise<HeldFeed>;
  /** Aborts when the registry shuts down. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * The run's terminal event, once it comes (null if its feed closes without one).
 *
 * @example
 * ```ts ignore
 * const ending = await runOutcome(runs, projectId, runId);
 * ```
 */
export async function runOutcome(
  runs: Followable,
  projectId: string,
  runId: string,
): Promise<TerminalEvent | null> {
  const { feed, release } = await runs.open(projectId, runId);
  let last: RunEvent | undefined;
  try {
    for await (const event of followEvents(feed, 0)) last = event;
  } finally {
    release();
  }
  return last && isTerminal(last) ? last as TerminalEvent : null;
}

/**
 * The run's result, or a {@linkcode RunFailed} with how it ended without
 * one: for the routes that answer with the result.
 *
 * @example
 * ```ts ignore
 * const { message } = await runResult(runs, projectId, runId);
 * ```
 */
export async function runResult(runs: Followable, projectId: string, runId: string): Promise<ChatResult> {
  const terminal = await runOutcome(runs, projectId, runId);
  if (terminal?.type === "result") return terminal.result;
  // A run that ended without a terminal event reads as the agent's own failure.
  const error = terminal && errorOf(terminal);
  throw new RunFailed(error ?? { code: "internal_error", message: ENDING_WORDS.internal, step: null });
}

/**
 * Waits up to `timeoutMs` for a running run to end, then resolves with its
 * record (null for an unknown run): the long-poll behind
 * `GET /runs/:runId?wait=N`. Stops early when `signal` aborts.
 *
 * @example
 * ```ts ignore
 * const record = await waitForRecord(runs, projectId, runId, 30_000, request.signal);
 * ```
 */
export async function waitForRecord(
  runs: Followable,
  projectId: string,
  runId: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunRecord | null> {
  const record = await runs.get(projectId, runId);
  if (!record || record.status !== "running" || timeoutMs <= 0) return record;
  let held: HeldFeed;
  try {
    held = await runs.open(projectId, runId);
  } catch {
    return record;
  }
  const stop = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]);
  const cursor = new FeedCursor(held.feed, {
    after: held.feed.lastSeq,
    shutdown: runs.shutdownSignal,
    signal: stop,
  });
  try {
    while ((await cursor.next()).kind !== "end");
  } finally {
    cursor.close();
    held.release();
  }
  // A remote run's record is written in the same commit as its terminal event.
  return await runs.get(projectId, runId) ?? record;
}
