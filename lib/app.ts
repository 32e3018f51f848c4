/**
 * The Hono app: middleware, the API, the pages and static files. Routes are
 * thin adapters over lib/; every error becomes JSON in one place.
 *
 * Middleware, outermost first: security headers (on every response, errors
 * included), the Host allowlist, the path check (no dot segments or control characters), the
 * body-size check, CORS (API only), access control, CSRF, the event-stream
 * caps, and the run-start rate limit.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { compress } from "hono/compress";
import { errorResponse, HttpError } from "./http_error.ts";
import { DomainError } from "./runs/errors.ts";
import { Authenticator, requireAuth } from "./http/auth.ts";
import { bodyLimit } from "./http/body.ts";
import { csrf } from "./http/csrf.ts";
import { allowedHosts, hostGuard } from "./http/host_guard.ts";
import type { AppDeps } from "./http/deps.ts";
import { createLimits } from "./http/limits.ts";
import { pathGuard } from "./http/path_guard.ts";
import { rateLimit } from "./http/rate_limit.ts";
import { securityHeaders } from "./http/security_headers.ts";
import { staticAssets } from "./http/static_assets.ts";
import { streamLimit } from "./http/stream_limit.ts";
import { AGUI_MAX_BODY_BYTES, MAX_BODY_BYTES } from "./schemas.ts";
import { matches, ROUTES } from "./urls.ts";
import { authRoutes } from "../routes/auth.tsx";
import { aguiRoutes } from "../routes/api/agui.ts";
import { memoryRoutes } from "../routes/api/memories.ts";
import { projectRoutes } from "../routes/api/projects.ts";
import { runRoutes } from "../routes/api/runs.ts";
import { feedRoutes } from "../routes/api/feeds.ts";
import { FeedHub } from "./feeds/hub.ts";
import { pageRoutes } from "../routes/pages.tsx";
import { healthRoutes } from "../routes/ops/health.ts";
import { portableRoutes } from "../routes/api/portable.ts";
import { IMPORT_MAX_BYTES } from "./ops/export_schema.ts";
import { requestLog } from "./ops/request_log.ts";

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
  const cap = limits.projectRuns;
  const deps: AppDeps = {
    ...appDeps,
    limits,
    feeds: appDeps.feeds ??
      new FeedHub(appDeps.stores.feed, {
        heartbeatMs: config.heartbeatMs,
        shutdown: appDeps.runs.shutdownSignal,
      }),
    // Every route that starts a run goes through the project cap.
    startRun: (project, message) =>
      cap ? cap.start(appDeps.runs, project, message) : appDeps.runs.start(project, message),
  };
  const auth = config.token === null
    ? null
    : new Authenticator(config.token, { sessionTtlMs: config.sessionTtlMs, kv: appDeps.stores.kv });

  app.onError((error) => {
    if (!(error instanceof HttpError) && !(error instanceof DomainError)) {
      console.error("Unhandled error:", error);
    }
    return errorResponse(error);
  });

  // ops: one line per request; with logs off, not even a middleware to pass through.
  if (appDeps.logger && appDeps.logger.mode !== "off") app.use(requestLog(appDeps.logger));
  app.use(securityHeaders());
  app.use(hostGuard({ allowed: allowedHosts(config) }));
  // Health answers before access control, CSRF and limits (/healthz before the host check too).
  healthRoutes(app, deps);
  app.use(pathGuard());
  // Pages are compressed as they go out; static files were compressed at build
  // time, and event streams never are.
  app.use(compress({ contentTypeFilter: /^text\/html/i }));
  app.use(bodyLimit({
    maxBytes: MAX_BODY_BYTES,
    timeoutMs: config.bodyTimeoutMs,
    limitFor: (method, path) =>
      method !== "POST"
        ? undefined
        : matches(ROUTES.agui, path)
        ? AGUI_MAX_BODY_BYTES
        : path === ROUTES.projectImport // export documents are large
        ? IMPORT_MAX_BYTES
        : undefined,
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
  // Per route: a stream slot first (a refused chat-stream starts no run), then the run-start rate.
  if (limits.streams) {
    const slot = streamLimit({ counter: limits.streams, isStreamRequest: () => true });
    for (const [method, path] of STREAM_ROUTES) app.on(method, path, slot);
  }
  if (limits.runs) {
    const perMinute = limits.runs.perMinute;
    const rate = rateLimit({
      limiter: limits.runs,
      message: (s) => `You can start ${perMinute} runs a minute; try again in ${s} s.`,
    });
    for (const path of RUN_STARTS) app.post(path, rate);
  }

  authRoutes(app, deps, { auth, failures: limits.signIn });
  portableRoutes(app, deps); // ops: export and import
  projectRoutes(app, deps);
  memoryRoutes(app, deps);
  runRoutes(app, deps);
  feedRoutes(app, deps);
  aguiRoutes(app, deps);
  pageRoutes(app, deps);

  app.use("/static/*", staticAssets({ root: `${config.staticRoot.replace(/\/?$/, "/")}static` }));

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

/** The routes that answer with an event stream: each reserves a stream slot before it runs. */
const STREAM_ROUTES: [string, string][] = [
  ["GET", ROUTES.runEvents],
  ["GET", ROUTES.projectEvents],
  ["GET", ROUTES.events],
  ["POST", ROUTES.chatStream],
  ["POST", ROUTES.agui],
];

/** The routes that start a run: each counts against the run-start rate limit. */
const RUN_STARTS = [ROUTES.chat, ROUTES.chatStream, ROUTES.runs, ROUTES.agui, ROUTES.pageMessages];
