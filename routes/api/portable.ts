/**
 * `GET /api/projects/:id/export` (one JSON document with everything a
 * project has) and `POST /api/projects/import` (a new project from such a
 * document; bodies up to {@linkcode IMPORT_MAX_BYTES}).
 *
 * @module
 */

import type { Hono } from "hono";
import { readJson } from "../../lib/http/body.ts";
import { type AppDeps, requireProject } from "../../lib/http/deps.ts";
import { IMPORT_MAX_BYTES, ProjectExport } from "../../lib/ops/export_schema.ts";
import { exportProject, importProject } from "../../lib/ops/portable.ts";

/** Registers the export and import routes. */
export function portableRoutes(app: Hono, { stores }: AppDeps): void {
  app.get("/api/projects/:id/export", async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const doc = await exportProject(stores.kv, project.id);
    c.header("content-disposition", `attachment; filename="lantern-project-${project.id}.json"`);
    c.header("cache-control", "no-store");
    return c.json(doc);
  });
  app.post("/api/projects/import", async (c) => {
    const doc = await readJson(c.req.raw, ProjectExport, IMPORT_MAX_BYTES);
    const project = await importProject(stores.kv, doc, { bounds: stores.bounds });
    c.header("location", `/api/projects/${project.id}`);
    return c.json(project, 201);
  });
}
