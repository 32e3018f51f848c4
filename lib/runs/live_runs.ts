/**
 * The runs this instance drives, held in memory while they run and for a
 * while after (`retainMs`), so that late followers and reads are served
 * without a KV read.
 *
 * @example
 * ```ts
 * import { LiveRuns } from "./live_runs.ts";
 * const runs = new LiveRuns(60_000);
 * console.log(runs.get("r1"), runs.size); // undefined 0
 * ```
 *
 * @module
 */

import type { LiveRun } from "./live_run.ts";

/** The runs this instance drives. See the module docs. */
export class LiveRuns {
  #runs = new Map<string, LiveRun>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #retainMs: number;

  /** A table whose finished runs stay `retainMs` before they leave memory. */
  constructor(retainMs: number) {
    this.#retainMs = retainMs;
  }

  /** How many runs are held. */
  get size(): number {
    return this.#runs.size;
  }

  /** How many retention timers are pending. */
  get timers(): number {
    return this.#timers.size;
  }

  /** A held run by id. */
  get(runId: string): LiveRun | undefined {
    return this.#runs.get(runId);
  }

  /** Holds a run from its start. */
  add(run: LiveRun): void {
    this.#runs.set(run.record.id, run);
  }

  /** Every held run, finished or not. */
  all(): LiveRun[] {
    return [...this.#runs.values()];
  }

  /** The held runs that have not ended. */
  running(): LiveRun[] {
    return this.all().filter((run) => !run.ended);
  }

  /** Keeps a finished run in memory a while for late followers, then lets it go. */
  retain(run: LiveRun): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // A stopped run's tidying up (its agent's unwinding, then its reply's parts) may take longer than
      // its retention: it stays until then, so a shutdown, which waits for the runs it holds, waits for it.
      const forget = () => this.#runs.delete(run.record.id);
      if (run.unwound) run.unwound.then(forget, forget);
      else forget();
    }, this.#retainMs);
    Deno.unrefTimer(timer);
    this.#timers.add(timer);
  }

  /** Lets every run go and cancels the pending timers. */
  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#runs.clear();
  }
}
