/**
 * `POST /api/projects/:id/agui`: Lantern's agent over the AG-UI protocol.
 * The body is AG-UI's RunAgentInput; the last user message is the one
 * answered, with the project's own conversation and memory. The response is
 * AG-UI's event stream (see lib/agui/mapper.ts for what maps to what).
 *
 * @module
 */

import type { Hono } from "hono";
import { readJson } from "../../lib/http/body.ts";
import { type AppDeps, requireProjectToRun, starter } from "../../lib/http/deps.ts";
import { ROUTES, urls } from "../../lib/urls.ts";
import { AGUI_MAX_BODY_BYTES } from "../../lib/schemas.ts";

/**
 * AG-UI's modules (its schemas with their own zod, its encoder: about 20 MiB
 * of memory), loaded with the first AG-UI request, not by every server.
 */
const loadModules = () =>
  Promise.all([
    import("../../lib/agui/input.ts"),
    import("../../lib/agui/mapper.ts"),
    import("../../lib/agui/stream.ts"),
  ]);
let modules: ReturnType<typeof loadModules> | null = null;
const aguiModules = () => modules ??= loadModules();

/** Registers the AG-UI route. */
export function aguiRoutes(app: Hono, deps: AppDeps): void {
  const { stores, runs, config } = deps;
  const startRun = starter(deps);
  app.post(ROUTES.agui, async (c) => {
    const [{ AguiInput, lastUserMessage }, { AguiMapper }, { AGUI_HEADERS, aguiStream }] =
      await aguiModules();
    // The body is read whole (and checked) before the streaming response is returned.
    const input = await readJson(c.req.raw, AguiInput, AGUI_MAX_BODY_BYTES);
    const project = await requireProjectToRun(stores, c.req.param("id"));
    const message = lastUserMessage(input);
    // The snapshot a client starts from: the memories before the run can change them.
    const initial = await stores.memories.list(project.id);
    const run = await startRun(project, message);
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
        "x-events-url": urls.runEvents(project.id, run.id),
      },
    });
  });
}
