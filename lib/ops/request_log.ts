/**
 * A middleware that logs one line per request once its response is ready:
 * method, path (never the query), status, duration, and the project and run
 * ids the path names. For an event stream, the duration is the time to its
 * first byte. Successful health checks (`/healthz`, `/readyz`) are not
 * logged: a load balancer asks every few seconds.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { Logger } from "./log.ts";

/** Paths whose successful answers are not logged. */
const QUIET = new Set(["/healthz", "/readyz"]);
const IDS = /^\/(?:api\/)?projects\/([^/]+)(?:\/runs\/([^/]+))?/;

/**
 * Logs every request through `logger`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "./log.ts";
 * import { requestLog } from "./request_log.ts";
 * const lines: string[] = [];
 * const app = new Hono();
 * app.use(requestLog(createLogger("json", (line) => lines.push(line))));
 * app.get("/api/projects/:id", (c) => c.json({}));
 * await app.request("/api/projects/p1?secret=x");
 * const entry = JSON.parse(lines[0]!);
 * console.log(entry.path, entry.status, entry.projectId); // /api/projects/p1 200 p1
 * ```
 */
export function requestLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    if (logger.mode === "off") return await next();
    const started = performance.now();
    try {
      await next();
    } finally {
      const path = c.req.path;
      const status = c.res.status;
      if (!(QUIET.has(path) && status < 400)) {
        const ids = IDS.exec(path);
        logger.info("request", {
          method: c.req.method,
          path: path.length > 300 ? path.slice(0, 300) + "…" : path,
          status,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          projectId: ids?.[1],
          runId: ids?.[2],
        });
      }
    }
  };
}
