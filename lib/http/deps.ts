/**
 * What route handlers need, passed to each route module, and small helpers
 * they share.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { HttpError } from "../http_error.ts";
import type { Project } from "../protocol.ts";
import type { RunRegistry } from "../runs/registry.ts";
import type { Stores } from "../store/mod.ts";
import { Id } from "../schemas.ts";
import type { Limits } from "./limits.ts";
import type { Logger } from "../ops/log.ts";

/** The app's dependencies. */
export interface AppDeps {
  config: Config;
  stores: Stores;
  runs: RunRegistry;
  /** Rate limits and stream caps; built from `config` when left out. */
  limits?: Limits;
  /** Request and run log lines (issue 17); none when left out. */
  logger?: Logger;
}

/** Whether a path parameter is an id (the {@linkcode Id} schema). */
export function isIdParam(id: string | undefined): id is string {
  return id !== undefined && Id.safeParse(id).success;
}

/** Reads a project by id or throws a 404 (also for ids of the wrong shape). */
export async function requireProject(stores: Stores, id: string | undefined): Promise<Project> {
  const project = isIdParam(id) ? await stores.projects.get(id) : null;
  if (!project) {
    throw new HttpError(404, "project_not_found", `Project "${String(id).slice(0, 80)}" was not found.`);
  }
  return project;
}

/** Checks that a path parameter has the shape of an id, or throws a 404. */
export function requireId(id: string | undefined, what: "run" | "memory"): string {
  if (!isIdParam(id)) {
    throw new HttpError(404, `${what}_not_found`, `The ${what} "${String(id).slice(0, 80)}" was not found.`);
  }
  return id;
}
