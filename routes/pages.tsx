/**
 * The pages: `/` lists, finds, creates, renames and deletes projects;
 * `/projects/:id` shows the conversation as exchanges with their steps, the
 * composer and the memories. Every form works without JavaScript.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { renderToString } from "preact-render-to-string";
import type { VNode } from "preact";
import { IslandProps, Layout, ProjectHeading } from "../components/Layout.tsx";
import { type ProjectRow, SEARCH_FROM } from "../components/ProjectList.tsx";
import ChatPanel from "../islands/ChatPanel.tsx";
import ProjectsLive, { type ProjectsLiveProps } from "../islands/ProjectsLive.tsx";
import { feedScopes } from "../lib/feeds/feed_log.ts";

import { HttpError } from "../lib/http_error.ts";
import { DomainError } from "../lib/runs/errors.ts";
import { runResult } from "../lib/runs/waiters.ts";
import { readForm, schemaError } from "../lib/http/body.ts";
import { type AppDeps, requireId, requireProject, requireProjectToRun, starter } from "../lib/http/deps.ts";
import { isId } from "../lib/ids.ts";
import { type Message, STEPS } from "../lib/protocol.ts";
import { MessageBody, ProjectBody } from "../lib/schemas.ts";
import { chatProps } from "./chat_props.ts";

/** A message as the list shows it: only its first few hundred characters travel to the page. */
function lastLine(message: Message | null): Message | null {
  return message && { ...message, content: message.content.slice(0, 300) };
}

function page(c: Context, node: VNode, status = 200): Response {
  return c.html("<!DOCTYPE html>" + renderToString(node), status as 200);
}

/** Registers the page routes. */
export function pageRoutes(app: Hono, deps: AppDeps): void {
  const { stores, runs } = deps;
  const startRun = starter(deps);
  app.get("/", async (c) => {
    // The feed's head first: whatever changes after it reaches the list live.
    const position = String(await stores.feed.head(feedScopes.list));
    const all = await stores.projects.list();
    const query = (c.req.query("q") ?? "").trim().slice(0, 200);
    const found = query ? all.filter((p) => p.name.toLowerCase().includes(query.toLowerCase())) : all;
    const rows: ProjectRow[] = await Promise.all(
      found.map(async (project) => ({
        project,
        last: lastLine((await stores.messages.list(project.id, 1))[0] ?? null),
      })),
    );
    // Most recent activity first.
    rows.sort((a, b) =>
      (b.last?.createdAt ?? b.project.createdAt).localeCompare(a.last?.createdAt ?? a.project.createdAt)
    );
    const engine = runs.engine;
    const listProps: ProjectsLiveProps = { rows, now: Date.now(), query, position };
    return page(
      c,
      <Layout title="Lantern" script>
        <div class="home">
          <section class="intro" aria-labelledby="projects-title">
            <h1 id="projects-title">Projects</h1>
            <p class="lede">
              Each project has its own conversation and memory. Lantern plans every answer in {STEPS.length}
              {" "}
              steps and shows you each one as it happens.
            </p>
            <form method="post" action="/projects" class="new-project" data-new-project>
              <label for="name" class="visually-hidden">New project</label>
              <input id="name" name="name" required maxLength={200} placeholder="Name a new project" />
              <button type="submit">Create</button>
            </form>
          </section>
          <section class="projects" aria-label="Your projects">
            {(all.length > SEARCH_FROM || query) && (
              <form method="get" action="/" role="search" class="search">
                <label for="q" class="visually-hidden">Find a project</label>
                <input id="q" name="q" type="search" value={query} placeholder="Find a project" />
                <button type="submit" class="secondary">Find</button>
              </form>
            )}
            <div id="projects" data-island="ProjectsLive">
              <ProjectsLive {...listProps} />
            </div>
            <IslandProps id="projects" props={listProps} />
          </section>
          <p class="engine" data-engine={engine.name}>
            Answers come from the {engine.name}{" "}
            engine{engine.model !== engine.name && `, model ${engine.model}`}.
          </p>
        </div>
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

  app.post("/projects/:id/rename", async (c) => {
    const form = await readForm(c.req.raw);
    const project = await requireProject(stores, c.req.param("id"));
    const parsed = ProjectBody.safeParse({ name: form.name });
    if (!parsed.success) throw schemaError(parsed.error);
    await stores.projects.rename(project.id, parsed.data.name);
    return c.redirect("/", 303);
  });

  app.post("/projects/:id/delete", async (c) => {
    await readForm(c.req.raw);
    const project = await requireProject(stores, c.req.param("id"));
    // As the API does: stop its runs first, so none writes after the delete.
    const running = (await runs.list(project.id)).filter((r) => r.status === "running");
    await Promise.all(running.map((r) => runs.cancel(project.id, r.id).catch(() => {})));
    await stores.projects.delete(project.id);
    return c.redirect("/", 303);
  });

  app.get("/projects/:id", async (c) => {
    const id = c.req.param("id");
    const project = id && isId(id) ? await stores.projects.get(id) : null;
    if (!project) {
      return page(
        c,
        <Layout title="Not found · Lantern">
          <section class="home">
            <h1>Project not found</h1>
            <p>
              There is no project here; it may have been deleted. <a href="/">See all projects</a>.
            </p>
          </section>
        </Layout>,
        404,
      );
    }
    const props = await chatProps(deps, project, {
      steps: c.req.query("steps"),
      notice: c.req.query("notice"),
    });
    return page(
      c,
      <Layout
        title={`${project.name} · Lantern`}
        description={`The conversation and memory of the project "${project.name}" in Lantern.`}
        heading={<ProjectHeading name={project.name} />}
        script
        skip={[{ href: "#message", label: "Skip to your message" }]}
      >
        <noscript>
          <p class="notice">
            JavaScript is off: messages still work, and the page shows the answer when the run is done. Turn
            it on to watch each step live.
          </p>
        </noscript>
        <div id="chat" data-island="ChatPanel">
          <ChatPanel {...props} />
        </div>
        <IslandProps id="chat" props={{ ...props, olderMessages: undefined }} />
      </Layout>,
    );
  });

  app.post("/projects/:id/messages", async (c) => {
    const form = await readForm(c.req.raw);
    const project = await requireProjectToRun(stores, c.req.param("id"));
    const parsed = MessageBody.safeParse({ message: form.message });
    if (!parsed.success) {
      const notice = schemaError(parsed.error).message;
      return c.redirect(`/projects/${project.id}?notice=${encodeURIComponent(notice)}`, 303);
    }
    try {
      // Inside the try: a refusal (a limit, say) comes back as a notice, not JSON.
      const run = await startRun(project, parsed.data.message);
      await runResult(runs, project.id, run.id);
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
