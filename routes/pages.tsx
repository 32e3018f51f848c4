/**
 * The pages: `/` lists and creates projects; `/projects/:id` shows the
 * conversation, the timeline and the memories. Every form works without
 * JavaScript: create a project, send a message, stop a run, forget a memory.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { renderToString } from "preact-render-to-string";
import type { VNode } from "preact";
import { IslandProps, Layout } from "../components/Layout.tsx";
import ChatPanel, { type ChatPanelProps } from "../islands/ChatPanel.tsx";
import { HttpError } from "../lib/http_error.ts";
import { DomainError } from "../lib/runs/errors.ts";
import { readForm, schemaError } from "../lib/http/body.ts";
import { type AppDeps, requireId, requireProject, starter } from "../lib/http/deps.ts";
import { isId } from "../lib/ids.ts";
import { renderMarkdown } from "../lib/markdown.ts";
import { MessageBody, ProjectBody } from "../lib/schemas.ts";

function page(c: Context, node: VNode, status = 200): Response {
  return c.html("<!DOCTYPE html>" + renderToString(node), status as 200);
}

/** Registers the page routes. */
export function pageRoutes(app: Hono, deps: AppDeps): void {
  const { stores, runs } = deps;
  const startRun = starter(deps);
  app.get("/", async (c) => {
    const projects = await stores.projects.list();
    const engine = runs.engine;
    return page(
      c,
      <Layout title="Lantern">
        <section class="panel intro" aria-labelledby="projects-title">
          <h1 id="projects-title">Projects</h1>
          <p class="lede">
            Each project has its own conversation and memory. Lantern plans every answer in eight steps and
            shows you each one as it happens.
          </p>
          <p class="muted" data-engine={engine.name}>
            Answers come from the <strong>{engine.name}</strong> engine
            {engine.model !== engine.name && (
              <>
                , model <strong>{engine.model}</strong>
              </>
            )}.
          </p>
          <form method="post" action="/projects" class="inline-form" data-new-project>
            <label for="name">New project</label>
            <input id="name" name="name" required maxLength={200} placeholder="Project name" />
            <button type="submit">Create</button>
          </form>
          {projects.length === 0
            ? <p class="empty">No projects yet. Create one to start.</p>
            : (
              <ul class="project-list">
                {projects.map((p) => (
                  <li key={p.id}>
                    <a href={`/projects/${p.id}`} data-project={p.id}>{p.name}</a>
                    <time datetime={p.createdAt}>{p.createdAt.slice(0, 10)}</time>
                  </li>
                ))}
              </ul>
            )}
        </section>
      </Layout>,
    );
  });

  app.post("/projects", async (c) => {
    const form = await readForm(c.req.raw);
    const parsed = ProjectBody.safeParse({ name: form.name });
    if (!parsed.success) throw schemaError(parsed.error);
    const project = await stores.projects.create(parsed.data.name);
    return c.redirect(`/projects/${project.id}`, 303);
  });

  app.get("/projects/:id", async (c) => {
    const id = c.req.param("id");
    const project = id && isId(id) ? await stores.projects.get(id) : null;
    if (!project) {
      return page(
        c,
        <Layout title="Not found · Lantern">
          <section class="panel">
            <h1>Project not found</h1>
            <p>
              There is no project here. <a href="/">See all projects</a>.
            </p>
          </section>
        </Layout>,
        404,
      );
    }
    const [messages, memories, recent] = await Promise.all([
      stores.messages.list(project.id),
      stores.memories.list(project.id),
      runs.list(project.id, 1),
    ]);
    const active = recent[0]?.status === "running" ? recent[0] : null;
    const last = recent[0] && recent[0].status !== "running" ? recent[0] : null;
    const base = `/api/projects/${project.id}/runs`;
    const notice = c.req.query("notice");
    const props: ChatPanelProps = {
      project,
      messages: messages.map((m) => ({
        ...m,
        html: m.role === "assistant" ? renderMarkdown(m.content) : "",
      })),
      memories,
      activeRun: active
        ? {
          runId: active.id,
          eventsUrl: `${base}/${active.id}/events`,
          cancelUrl: `${base}/${active.id}/cancel`,
        }
        : null,
      // The last run's outcome and step times; its plan and outputs stay on the server.
      lastRun: last && {
        ...last,
        result: last.result &&
          { ...last.result, plan: [], actions: [], memories: { added: [], removed: [] } },
      },
      engine: { name: runs.engine.name, model: runs.engine.model },
      ...(notice ? { notice: notice.slice(0, 500) } : {}),
    };
    return page(
      c,
      <Layout
        title={`${project.name} · Lantern`}
        script
        skip={[{ href: "#message", label: "Skip to your message" }]}
      >
        <nav aria-label="Breadcrumb" class="crumbs">
          <a href="/">Projects</a>
        </nav>
        <h1 class="project-title">{project.name}</h1>
        <noscript>
          <p class="notice">
            JavaScript is off: messages still work, and the page shows the answer when the run is done. Turn
            it on to watch each step live.
          </p>
        </noscript>
        <div id="chat" data-island="ChatPanel">
          <ChatPanel {...props} />
        </div>
        <IslandProps id="chat" props={props} />
      </Layout>,
    );
  });

  app.post("/projects/:id/messages", async (c) => {
    const form = await readForm(c.req.raw);
    const project = await requireProject(stores, c.req.param("id"));
    const parsed = MessageBody.safeParse({ message: form.message });
    if (!parsed.success) {
      const notice = schemaError(parsed.error).message;
      return c.redirect(`/projects/${project.id}?notice=${encodeURIComponent(notice)}`, 303);
    }
    try {
      // Inside the try: a refusal (a limit, say) comes back as a notice, not JSON.
      const run = await startRun(project, parsed.data.message);
      await runs.result(project.id, run.id);
    } catch (error) {
      const notice = error instanceof HttpError || error instanceof DomainError
        ? error.message
        : "The run failed.";
      return c.redirect(`/projects/${project.id}?notice=${encodeURIComponent(notice)}`, 303);
    }
    return c.redirect(`/projects/${project.id}#latest`, 303);
  });

  // The Stop button's form action, for pages without JavaScript.
  app.post("/projects/:id/runs/:runId/cancel", async (c) => {
    await readForm(c.req.raw);
    const project = await requireProject(stores, c.req.param("id"));
    await runs.cancel(project.id, requireId(c.req.param("runId"), "run"));
    return c.redirect(`/projects/${project.id}#latest`, 303);
  });

  // The Forget button's form action, for pages without JavaScript.
  app.post("/projects/:id/memories/:memoryId/forget", async (c) => {
    await readForm(c.req.raw);
    const project = await requireProject(stores, c.req.param("id"));
    await stores.memories.delete(project.id, requireId(c.req.param("memoryId"), "memory"));
    return c.redirect(`/projects/${project.id}`, 303);
  });
}
