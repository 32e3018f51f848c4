/**
 * The feeds: `GET /api/projects/:id/events` (what happens in a project, with
 * its runs' events on the same stream) and `GET /api/events` (the project
 * list). Both resume from `Last-Event-ID` (or `?lastEventId=`); without one
 * they start now (a project feed then follows the runs already going from
 * their first event).
 *
 * @module
 */

import type { Hono } from "hono";
import { feedScopes } from "../../lib/feeds/feed_log.ts";
import { type FeedPosition, parsePosition } from "../../lib/feeds/position.ts";
import { feedStream } from "../../lib/http/feed_stream.ts";
import { type AppDeps, requireProject } from "../../lib/http/deps.ts";
import { HttpError } from "../../lib/http_error.ts";
import { ROUTES } from "../../lib/urls.ts";

/** The position a client resumes from, null to start now; a 400 for one that is not a position. */
function positionOf(header: string | undefined, query: string | undefined): FeedPosition | null {
  const raw = (header ?? query)?.trim();
  if (raw === undefined || raw === "") return null;
  const position = parsePosition(raw);
  if (!position) {
    throw new HttpError(
      400,
      "invalid_last_event_id",
      `Last-Event-ID must be an id this feed sent (such as "12" or "12,<runId>:5"), got "${
        raw.slice(0, 40)
      }".`,
    );
  }
  return position;
}

/** Registers the feed routes. */
export function feedRoutes(app: Hono, { stores, runs, feeds, config }: AppDeps): void {
  const hub = feeds!;
  app.get(ROUTES.projectEvents, async (c) => {
    const project = await requireProject(stores, c.req.param("id"));
    const position = positionOf(c.req.header("last-event-id"), c.req.query("lastEventId"));
    const viewer = await hub.subscribe(feedScopes.project(project.id), position, {
      openRun: async (runId) => await runs.open(project.id, runId),
      running: async () =>
        (await runs.list(project.id, 20)).filter((r) => r.status === "running").map((r) => r.id),
    });
    return feedStream(viewer, { retryMs: config.retryMs, headers: { "x-instance-id": runs.instanceId } });
  });

  app.get(ROUTES.events, async (c) => {
    const position = positionOf(c.req.header("last-event-id"), c.req.query("lastEventId"));
    if (position && position.runs.size > 0) {
      throw new HttpError(400, "invalid_last_event_id", "The project list's feed has no runs in its ids.");
    }
    const viewer = await hub.subscribe(feedScopes.list, position);
    return feedStream(viewer, { retryMs: config.retryMs, headers: { "x-instance-id": runs.instanceId } });
  });
}
