/**
 * What route handlers need, passed to each route module, and small helpers
 * they share.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { notFound } from "../http_error.ts";
import { isId } from "../ids.ts";
import type { Project, RunRecord } from "../protocol.ts";
import type { RunRegistry } from "../runs/registry.ts";
import type { Stores } from "../store/mod.ts";
import type { Limits } from "./limits.ts";
import type { Logger } from "../ops/log.ts";
import type { FeedHub } from "../feeds/hub.ts";

/** The app's dependencies. */
export interface AppDeps {
  config: Config;
  stores: Stores;
  runs: RunRegistry;
  /** Rate limits and stream caps; built from `config` when left out. */
  limits?: Limits;
  /**
   * Starts a run: every route that starts one calls this, so the project's
   * run cap applies to all of them. The app sets it; `runs.start` otherwise.
   */
  startRun?: (project: Project, message: string) => Promise<RunRecord>;
  /** This instance's feeds (project and list); made from `stores.feed` when left out. */
  feeds?: FeedHub;
  /** Request and run log lines; none when left out. */
  logger?: Logger;
}

/** Reads a project by id or throws a 404 (also for ids of the wrong shape). */
export function requireProject(stores: Stores, id: string | undefined): Promise<Project> {
  return projectOr404(id, (id) => stores.projects.get(id));
}

/**
 * The project a run is about to start in, as this instance last read it: no
 * read of KV when it has read it before. The run's start commit checks that
 * it is still so, and reads it again if not (`RunRegistry.start`).
 */
export function requireProjectToRun(stores: Stores, id: string | undefined): Promise<Project> {
  return projectOr404(id, (id) => stores.projects.known(id));
}

async function projectOr404(id: string | undefined, read: (id: string) => Promise<Project | null>) {
  const project = id !== undefined && isId(id) ? await read(id) : null;
  if (!project) throw notFound("project", id);
  return project;
}

/** Checks that a path parameter has the shape of an id, or throws a 404. */
export function requireId(id: string | undefined, what: "run" | "memory"): string {
  if (id === undefined || !isId(id)) throw notFound(what, id);
  return id;
}

/** The function that starts runs for these dependencies. */
export function starter(deps: AppDeps): (project: Project, message: string) => Promise<RunRecord> {
  return deps.startRun ?? ((project, message) => deps.runs.start(project, message));
}
