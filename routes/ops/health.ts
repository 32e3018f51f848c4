/**
 * `GET /healthz` (alive) and `GET /readyz` (ready for traffic). Both are open
 * without a token and registered before every other middleware (access
 * control, CSRF, limits), so a load balancer can always ask.
 *
 * @module
 */

import type { Hono } from "hono";
import { errorResponse, HttpError } from "../../lib/http_error.ts";
import type { AppDeps } from "../../lib/http/deps.ts";
import { checkReady } from "../../lib/ops/health.ts";

/** Registers `/healthz` and `/readyz`. */
export function healthRoutes(app: Hono, { stores, runs }: AppDeps): void {
  app.get("/healthz", (c) => {
    c.header("cache-control", "no-store");
    return c.json({ status: "ok" });
  });
  app.get("/readyz", async (c) => {
    const ready = await checkReady(stores.kv, runs.shutdownSignal);
    if (!ready.ready) {
      const response = errorResponse(new HttpError(503, "not_ready", ready.reason ?? "Not ready."));
      response.headers.set("cache-control", "no-store");
      return response;
    }
    c.header("cache-control", "no-store");
    return c.json({ status: "ready", kvMs: ready.kvMs, instanceId: runs.instanceId });
  });
}
