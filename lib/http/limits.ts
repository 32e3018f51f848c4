/**
 * Lantern's limits in one place, built from the configuration: runs started
 * per client per minute, runs running per project, open event streams per
 * client and in total, and failed sign-ins per client. All counts live in
 * memory, so each limit holds per instance (per isolate with
 * `deno serve --parallel`).
 *
 * @module
 */

import type { Config } from "../config.ts";
import { HttpError } from "../http_error.ts";
import type { Project, RunRecord } from "../protocol.ts";
import type { RunRegistry } from "../runs/registry.ts";
import { RateLimiter } from "./rate_limit.ts";
import { StreamCounter } from "./stream_limit.ts";

/**
 * Caps how many runs a project has running at once. Starts in one project
 * are serialized, so two requests racing for the last slot cannot both win.
 *
 * @example
 * ```ts ignore
 * const cap = new ProjectRunCap(3);
 * const record = await cap.start(runs, project, "Hello"); // throws a 429 HttpError at the cap
 * ```
 */
export class ProjectRunCap {
  /** Runs a project may have going at once. */
  readonly max: number;
  #running = new Map<string, Set<string>>();
  #locks = new Map<string, Promise<void>>();

  /** A cap of `max` running runs per project. */
  constructor(max: number) {
    this.max = max;
  }

  /** Projects with runs started here that may still be running. */
  get projects(): number {
    return this.#running.size;
  }

  /** Starts a run through `runs` unless the project is at its cap (then 429 with `Retry-After`). */
  async start(runs: RunRegistry, project: Project, message: string): Promise<RunRecord> {
    return await this.#serial(project.id, async () => {
      const ids = this.#running.get(project.id) ?? new Set<string>();
      for (const id of ids) {
        const run = await runs.get(project.id, id);
        if (run?.status !== "running") ids.delete(id);
      }
      if (ids.size >= this.max) {
        throw new HttpError(
          429,
          "too_many_runs",
          `This project already has ${ids.size} runs going, its limit; wait for one to finish.`,
          { "retry-after": "5" },
        );
      }
      const record = await runs.start(project, message);
      ids.add(record.id);
      this.#running.set(project.id, ids);
      return record;
    });
  }

  async #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const { promise: mine, resolve } = Promise.withResolvers<void>();
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      resolve();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
      if (this.#running.get(key)?.size === 0) this.#running.delete(key);
    }
  }
}

/** Every limit of a Lantern; a null member is switched off. */
export interface Limits {
  /** Runs a client may start per minute. */
  runs: RateLimiter | null;
  /** Running runs per project. */
  projectRuns: ProjectRunCap | null;
  /** Open event streams. */
  streams: StreamCounter | null;
  /** Failed sign-ins and wrong bearer tokens per client (on even with `LANTERN_LIMITS=off`). */
  signIn: RateLimiter | null;
}

/**
 * Builds the limits the configuration asks for. `LANTERN_LIMITS=off` turns
 * off the run and stream limits; a value of 0 turns off that one limit.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createLimits } from "./limits.ts";
 * const limits = createLimits(loadConfig({ LANTERN_LIMITS: "off" }));
 * console.log(limits.runs, limits.streams); // null null
 * ```
 */
export function createLimits(config: Config): Limits {
  const on = config.limits;
  return {
    runs: on && config.runsPerMin > 0 ? new RateLimiter({ perMinute: config.runsPerMin }) : null,
    projectRuns: on && config.maxRunsPerProject > 0 ? new ProjectRunCap(config.maxRunsPerProject) : null,
    streams: on && (config.maxStreamsPerClient > 0 || config.maxStreams > 0)
      ? new StreamCounter({ perClient: config.maxStreamsPerClient, total: config.maxStreams })
      : null,
    signIn: config.token !== null && config.signInPerMin > 0
      ? new RateLimiter({ perMinute: config.signInPerMin })
      : null,
  };
}
