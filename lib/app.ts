/**
 * The Hono app: middleware, the API, the pages and static files. Routes are
 * thin adapters over lib/; every error becomes JSON in one place.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { serveStatic } from "hono/deno";
import { errorResponse, HttpError } from "./http_error.ts";
import type { AppDeps } from "./http/deps.ts";
import { memoryRoutes } from "../routes/api/memories.ts";
import { projectRoutes } from "../routes/api/projects.ts";
import { runRoutes } from "../routes/api/runs.ts";
import { pageRoutes } from "../routes/pages.tsx";

/**
 * Builds the app over its dependencies.
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * Deno.serve(createApp(deps).fetch);
 * ```
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.onError((error) => {
    if (!(error instanceof HttpError)) console.error("Unhandled error:", error);
    return errorResponse(error);
  });

  const origins = deps.config.corsOrigins;
  if (origins.length > 0) {
    app.use(
      "/api/*",
      cors({
        origin: (origin) => (origins.includes("*") ? "*" : origins.includes(origin) ? origin : null),
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
        allowHeaders: ["Content-Type", "Last-Event-ID", "Authorization"],
        exposeHeaders: ["X-Run-Id", "X-Events-Url", "Location"],
        maxAge: 600,
      }),
    );
  }

  projectRoutes(app, deps);
  memoryRoutes(app, deps);
  runRoutes(app, deps);
  pageRoutes(app, deps);

  app.use(
    "/static/*",
    serveStatic({
      root: "./",
      onFound: (path, c) => {
        const immutable = /\/islands\/chunk-|\.[0-9a-f]{8,}\./i.test(path);
        c.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "public, max-age=60");
      },
    }),
  );

  const patterns = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({ method: r.method, pattern: new URLPattern({ pathname: r.path }) }));

  app.notFound((c) => {
    const url = new URL(c.req.url);
    const allowed = patterns.filter((p) => p.pattern.test({ pathname: url.pathname }))
      .map((p) => p.method);
    if (allowed.length > 0) {
      const allow = [...new Set(allowed)].join(", ");
      return errorResponse(
        new HttpError(405, "method_not_allowed", `${c.req.method} is not allowed here; use ${allow}.`, {
          allow,
        }),
      );
    }
    return errorResponse(
      new HttpError(404, "not_found", `Nothing lives at "${url.pathname.slice(0, 200)}".`),
    );
  });

  return app;
}
