/**
 * `POST /api/projects/:id/agui`: Lantern's agent over the AG-UI protocol.
 * The body is AG-UI's RunAgentInput; the last user message is the one
 * answered, with the project's own conversation and memory. The response is
 * AG-UI's event stream (see lib/agui.ts for what maps to what).
 *
 * @module
 */

import type { Hono } from "hono";
import {
  AGUI_HEADERS,
  AGUI_MAX_BODY_BYTES,
  AguiInput,
  AguiMapper,
  aguiStream,
  lastUserMessage,
} from "../../lib/agui.ts";
import { readJson } from "../../lib/http/body.ts";
import { type AppDeps, requireProject } from "../../lib/http/deps.ts";

/** Registers the AG-UI route. */
export function aguiRoutes(app: Hono, { stores, runs, config }: AppDeps): void {
  app.post("/api/projects/:id/agui", async (c) => {
    // The body is read whole (and checked) before the streaming response is returned.
    const input = await readJson(c.req.raw, AguiInput, AGUI_MAX_BODY_BYTES);
    const project = await requireProject(stores, c.req.param("id"));
    const message = lastUserMessage(input);
    // The snapshot a client starts from: the memories before the run can change them.
    const initial = await stores.memories.list(project.id);
    const run = await runs.start(project, message);
    const { feed, release } = await runs.open(project.id, run.id);
    const mapper = new AguiMapper({
      threadId: input.threadId,
      runId: input.runId,
      input,
      lanternRunId: run.id,
      projectId: project.id,
    });
    const body = aguiStream(feed, mapper, {
      initial,
      load: () => stores.memories.list(project.id),
    }, { heartbeatMs: config.heartbeatMs, onClose: release });
    return new Response(body, {
      headers: {
        ...AGUI_HEADERS,
        "x-run-id": run.id,
        "x-events-url": `/api/projects/${project.id}/runs/${run.id}/events`,
      },
    });
  });
}
