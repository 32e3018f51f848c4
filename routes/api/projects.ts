/**
 * `/api/projects`: create, list, read, rename and delete projects.
 *
 * @module
 */

import type { Hono } from "hono";
import { notFound } from "../../lib/http_error.ts";
import { readJson } from "../../lib/http/body.ts";
import { type AppDeps, requireProject } from "../../lib/http/deps.ts";
import { ProjectBody } from "../../lib/schemas.ts";
import { ROUTES } from "../../lib/urls.ts";

/** Registers the project routes. */
export function projectRoutes(app: Hono, { stores, runs }: AppDeps): void {
  app.post(ROUTES.projects, async (c) => {
    const { name } = await readJson(c.req.raw, ProjectBody);
    return c.json(await stores.projects.create(name), 201);
  });
  app.get(ROUTES.projects, async (c) => c.json(await stores.projects.list()));
  // Which instance answers: the page's feed follower probes here and learns of a restart.
  app.get(
    ROUTES.project,
    async (c) =>
      c.json(await requireProject(stores, c.req.param("id")), 200, { "x-instance-id": runs.instanceId }),
  );
  app.patch(ROUTES.project, async (c) => {
    const { name } = await readJson(c.req.raw, ProjectBody);
    const project = await requireProject(stores, c.req.param("id"));
    const renamed = await stores.projects.rename(project.id, name);
    if (!renamed) throw notFound("project", project.id);
    return c.json(renamed);
  });
  app.delete(ROUTES.project, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    // A run still going would write its answer and record after the delete,
    // leaving keys no project owns: stop the project's runs first.
    const running = (await runs.list(project.id)).filter((r) => r.status === "running");
    await Promise.all(running.map((r) => runs.cancel(project.id, r.id).catch(() => {})));
    await stores.projects.delete(project.id);
    return c.json({ deleted: project.id });
  });
}
