/**
 * The Hono app: middleware, the API, the pages and static files. Routes are
 * thin adapters over lib/; every error becomes JSON in one place.
 *
 * Middleware, outermost first: security headers (on every response, errors
 * included), the path check (no dot segments or control characters), the
 * body-size check, CORS (API only), access control, CSRF, the event-stream
 * caps, and the run-start rate limit.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { compress } from "hono/compress";
import { AGUI_MAX_BODY_BYTES } from "./agui.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import { Authenticator, requireAuth } from "./http/auth.ts";
import { bodyLimit } from "./http/body.ts";
import { csrf } from "./http/csrf.ts";
import type { AppDeps } from "./http/deps.ts";
import { createLimits, limitRuns } from "./http/limits.ts";
import { pathGuard } from "./http/path_guard.ts";
import { rateLimit } from "./http/rate_limit.ts";
import { securityHeaders } from "./http/security_headers.ts";
import { staticAssets } from "./http/static_assets.ts";
import { streamLimit } from "./http/stream_limit.ts";
import { MAX_BODY_BYTES } from "./schemas.ts";
import { authRoutes } from "../routes/auth.tsx";
import { aguiRoutes } from "../routes/api/agui.ts";
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
export function createApp(appDeps: AppDeps): Hono {
  const app = new Hono();
  const config = appDeps.config;
  const limits = appDeps.limits ?? createLimits(config);
  const deps: AppDeps = {
    ...appDeps,
    limits,
    runs: limits.projectRuns ? limitRuns(appDeps.runs, limits.projectRuns) : appDeps.runs,
  };
  const auth = config.token === null
    ? null
    : new Authenticator(config.token, { sessionTtlMs: config.sessionTtlMs });

  app.onError((error) => {
    if (!(error instanceof HttpError)) console.error("Unhandled error:", error);
    return errorResponse(error);
  });

  app.use(securityHeaders());
  app.use(pathGuard());
  // Pages are compressed as they go out; static files were compressed at build
  // time, and event streams never are.
  app.use(compress({ contentTypeFilter: /^text\/html/i }));
  app.use(bodyLimit({
    maxBytes: MAX_BODY_BYTES,
    limitFor: (method, path) => method === "POST" && AGUI_ROUTE.test(path) ? AGUI_MAX_BODY_BYTES : undefined,
  }));

  const origins = config.corsOrigins;
  if (origins.length > 0) {
    app.use(
      "/api/*",
      cors({
        origin: (origin) => (origins.includes("*") ? "*" : origins.includes(origin) ? origin : null),
        allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allowHeaders: ["Content-Type", "Last-Event-ID", "Authorization"],
        exposeHeaders: ["X-Run-Id", "X-Events-Url", "Location"],
        maxAge: 600,
      }),
    );
  }

  // Who first (401 for anyone without the token), then from where (403 for a cross-site browser).
  app.use(requireAuth({ auth, failures: limits.signIn }));
  app.use(csrf({ origins, tokenRequired: auth !== null }));
  if (limits.streams) {
    app.use(streamLimit({ counter: limits.streams, isStreamRequest }));
  }
  if (limits.runs) {
    const perMinute = limits.runs.perMinute;
    app.use(rateLimit({
      limiter: limits.runs,
      applies: startsRun,
      message: (s) => `You can start ${perMinute} runs a minute; try again in ${s} s.`,
    }));
  }

  authRoutes(app, deps, { auth, failures: limits.signIn });
  projectRoutes(app, deps);
  memoryRoutes(app, deps);
  runRoutes(app, deps);
  aguiRoutes(app, deps);
  pageRoutes(app, deps);

  app.use("/static/*", staticAssets());

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

const STREAM_ROUTES: [string, RegExp][] = [
  ["GET", /^\/api\/projects\/[^/]+\/runs\/[^/]+\/events$/],
  ["POST", /^\/api\/projects\/[^/]+\/(?:chat-stream|agui)$/],
];

const AGUI_ROUTE = /^\/api\/projects\/[^/]+\/agui$/;

const RUN_ROUTES = /^(?:\/api\/projects\/[^/]+\/(?:chat|chat-stream|runs|agui)|\/projects\/[^/]+\/messages)$/;

/** Whether a request asks for an event stream (a slot is reserved before it runs). */
function isStreamRequest(method: string, path: string): boolean {
  return STREAM_ROUTES.some(([m, pattern]) => m === method && pattern.test(path));
}

/** Whether a request starts a run (counted by the per-client rate limit). */
function startsRun(method: string, path: string): boolean {
  return method === "POST" && RUN_ROUTES.test(path);
}
