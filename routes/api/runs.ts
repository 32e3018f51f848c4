/**
 * Runs: `/chat` (wait for the result), `/chat-stream` (start and follow on
 * one response), `/runs` (start, list, read, follow, cancel), and the whole
 * output of a tool action whose event carries it cut.
 *
 * @module
 */

import type { Hono } from "hono";
import { HttpError, notFound } from "../../lib/http_error.ts";
import { readJson } from "../../lib/http/body.ts";
import {
  type AppDeps,
  requireId,
  requireProject,
  requireProjectToRun,
  starter,
} from "../../lib/http/deps.ts";
import { runStream } from "../../lib/http/run_stream.ts";
import type { RunStarted } from "../../lib/protocol.ts";
import { runResult, waitForRecord } from "../../lib/runs/waiters.ts";
import { LastEventId, MessageBody } from "../../lib/schemas.ts";
import { ROUTES, urls } from "../../lib/urls.ts";

function lastEventId(header: string | undefined, query: string | undefined): number {
  const raw = header ?? query;
  if (raw === undefined || raw === "") return 0;
  const parsed = LastEventId.safeParse(raw.trim());
  if (!parsed.success) {
    throw new HttpError(
      400,
      "invalid_last_event_id",
      `Last-Event-ID must be a whole number, got "${raw.slice(0, 40)}".`,
    );
  }
  return parsed.data;
}

/** The longest `?wait=` a client can ask of `GET /runs/:runId`, in seconds. */
export const MAX_WAIT_SECONDS = 30;

function waitSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,6}$/.test(raw.trim())) {
    throw new HttpError(
      400,
      "invalid_wait",
      `wait must be a whole number of seconds, got "${raw.slice(0, 40)}".`,
    );
  }
  return Math.min(Number(raw.trim()), MAX_WAIT_SECONDS);
}

/** Registers the run routes. */
export function runRoutes(app: Hono, deps: AppDeps): void {
  const { stores, runs, config } = deps;
  const startRun = starter(deps);

  app.post(ROUTES.chat, async (c) => {
    const { message } = await readJson(c.req.raw, MessageBody);
    const project = await requireProjectToRun(stores, c.req.param("id"));
    const run = await startRun(project, message);
    return c.json(await runResult(runs, project.id, run.id));
  });

  app.post(ROUTES.chatStream, async (c) => {
    // The body is read whole before the streaming response is returned.
    const { message } = await readJson(c.req.raw, MessageBody);
    const project = await requireProjectToRun(stores, c.req.param("id"));
    const run = await startRun(project, message);
    return await runStream(runs, project.id, run.id, {
      after: 0,
      heartbeatMs: config.heartbeatMs,
      headers: { "x-events-url": urls.runEvents(project.id, run.id) },
    });
  });

  app.post(ROUTES.runs, async (c) => {
    const { message } = await readJson(c.req.raw, MessageBody);
    const project = await requireProjectToRun(stores, c.req.param("id"));
    const run = await startRun(project, message);
    const body: RunStarted = {
      runId: run.id,
      eventsUrl: urls.runEvents(project.id, run.id),
      cancelUrl: urls.runCancel(project.id, run.id),
    };
    return c.json(body, 202, { location: urls.run(project.id, run.id) });
  });

  app.get(ROUTES.runs, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    return c.json(await runs.list(project.id));
  });

  app.get(ROUTES.run, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const runId = requireId(c.req.param("runId"), "run");
    // `?wait=N`: a long-poll for clients whose event streams are blocked. It
    // holds only a cursor on the run's feed and ends after N s (at most 30),
    // at shutdown, or as soon as the client leaves (`request.signal`; deno.json
    // opts in to "no-legacy-abort", so it fires only then).
    const wait = waitSeconds(c.req.query("wait"));
    const run = await waitForRecord(runs, project.id, runId, wait * 1000, c.req.raw.signal);
    if (!run) throw notFound("run", runId);
    return c.json(run, 200, { "x-instance-id": runs.instanceId });
  });

  app.get(ROUTES.runEvents, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const runId = requireId(c.req.param("runId"), "run");
    const after = lastEventId(c.req.header("last-event-id"), c.req.query("lastEventId"));
    return await runStream(runs, project.id, runId, {
      after,
      heartbeatMs: config.heartbeatMs,
      retryMs: config.retryMs,
      // Which instance serves the stream: useful when several share one KV.
      headers: { "x-instance-id": runs.instanceId },
    });
  });

  app.get(ROUTES.actionOutput, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const runId = requireId(c.req.param("runId"), "run");
    const raw = c.req.param("index") ?? "";
    if (!/^\d{1,6}$/.test(raw)) {
      throw new HttpError(
        400,
        "invalid_index",
        `The action index must be a whole number, got "${raw.slice(0, 40)}".`,
      );
    }
    const index = Number(raw);
    // An output cut in its event is kept whole in parts; it is JSON already.
    const whole = await stores.outputs.read(project.id, runId, index);
    if (whole !== null) {
      return new Response(whole, { headers: { "content-type": "application/json; charset=utf-8" } });
    }
    const run = await runs.get(project.id, runId);
    if (!run) throw notFound("run", runId);
    const action = run.result?.actions[index];
    if (action?.truncated) {
      throw new HttpError(
        410,
        "output_expired",
        `The whole output of action ${index} of run "${runId}" has expired (it is kept as long as the run's log).`,
      );
    }
    if (!action) {
      throw new HttpError(
        404,
        "output_not_found",
        `Run "${runId}" has no ${run.status === "running" ? "finished " : ""}action ${index} with an output.`,
      );
    }
    return c.json(action.output ?? null);
  });

  app.post(ROUTES.runCancel, async (c) => {
    await c.req.raw.body?.cancel().catch(() => {});
    const project = await requireProject(stores, c.req.param("id"));
    const runId = requireId(c.req.param("runId"), "run");
    const run = await runs.cancel(project.id, runId);
    return c.json({ runId: run.id, status: run.status, run }, 200, { "x-instance-id": runs.instanceId });
  });
}
