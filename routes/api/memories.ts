/**
 * `/api/projects/:id/messages` and `/api/projects/:id/memories`.
 *
 * @module
 */

import type { Hono } from "hono";
import { HttpError, notFound } from "../../lib/http_error.ts";
import { readJson } from "../../lib/http/body.ts";
import { type AppDeps, requireId, requireProject } from "../../lib/http/deps.ts";
import { inExchangeOrder } from "../../lib/exchanges.ts";
import { renderMarkdown } from "../../lib/markdown.ts";
import { MemoryBody } from "../../lib/schemas.ts";
import { ROUTES } from "../../lib/urls.ts";

/** Registers the conversation and memory routes. */
export function memoryRoutes(app: Hono, { stores }: AppDeps): void {
  app.get(ROUTES.messages, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const messages = inExchangeOrder(await stores.messages.list(project.id));
    if (c.req.query("format") !== "html") return c.json(messages);
    return c.json(messages.map((m) => ({ ...m, html: renderMarkdown(m.content) })));
  });
  app.get(ROUTES.memories, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    // Current memories; `?history=1` adds the ones a newer fact replaced.
    const history = c.req.query("history");
    if (history !== undefined && !["0", "1", "true", "false"].includes(history)) {
      throw new HttpError(400, "invalid_query", `"history" must be 1 or 0, got "${history.slice(0, 40)}".`);
    }
    return c.json(await stores.memories.list(project.id, { history: history === "1" || history === "true" }));
  });
  app.post(ROUTES.memories, async (c) => {
    const { text } = await readJson(c.req.raw, MemoryBody);
    const project = await requireProject(stores, c.req.param("id"));
    return c.json(await stores.memories.add(project.id, { text, source: "user" }), 201);
  });
  app.delete(ROUTES.memory, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const memoryId = requireId(c.req.param("memoryId"), "memory");
    const removed = await stores.memories.delete(project.id, memoryId);
    if (!removed) throw notFound("memory", memoryId);
    return c.json({ deleted: removed.id });
  });
}
