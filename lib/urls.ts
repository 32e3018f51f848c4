/**
 * Every URL of Lantern in one table: the route patterns the app registers,
 * and builders for the links pages, the island and API answers hand out.
 * Browser-safe, so the island builds its links here too.
 *
 * @example
 * ```ts
 * import { ROUTES, urls } from "./urls.ts";
 * console.log(ROUTES.runEvents); // /api/projects/:id/runs/:runId/events
 * console.log(urls.runEvents("p1", "r1")); // /api/projects/p1/runs/r1/events
 * ```
 *
 * @module
 */

/** The route patterns, as Hono and URLPattern read them. */
export const ROUTES = {
  projects: "/api/projects",
  projectImport: "/api/projects/import",
  project: "/api/projects/:id",
  projectExport: "/api/projects/:id/export",
  messages: "/api/projects/:id/messages",
  memories: "/api/projects/:id/memories",
  memory: "/api/projects/:id/memories/:memoryId",
  chat: "/api/projects/:id/chat",
  chatStream: "/api/projects/:id/chat-stream",
  agui: "/api/projects/:id/agui",
  runs: "/api/projects/:id/runs",
  run: "/api/projects/:id/runs/:runId",
  runEvents: "/api/projects/:id/runs/:runId/events",
  runCancel: "/api/projects/:id/runs/:runId/cancel",
  projectEvents: "/api/projects/:id/events",
  events: "/api/events",
  actionOutput: "/api/projects/:id/runs/:runId/actions/:index/output",
  home: "/",
  newProject: "/projects",
  projectPage: "/projects/:id",
  pageMessages: "/projects/:id/messages",
  pageCancel: "/projects/:id/runs/:runId/cancel",
  pageForget: "/projects/:id/memories/:memoryId/forget",
} as const;

/** Links to the API and the pages. */
export const urls = {
  project: (id: string): string => `/api/projects/${id}`,
  messages: (id: string): string => `/api/projects/${id}/messages`,
  memories: (id: string): string => `/api/projects/${id}/memories`,
  memory: (id: string, memoryId: string): string => `/api/projects/${id}/memories/${memoryId}`,
  chat: (id: string): string => `/api/projects/${id}/chat`,
  runs: (id: string): string => `/api/projects/${id}/runs`,
  run: (id: string, runId: string): string => `/api/projects/${id}/runs/${runId}`,
  runEvents: (id: string, runId: string): string => `/api/projects/${id}/runs/${runId}/events`,
  runCancel: (id: string, runId: string): string => `/api/projects/${id}/runs/${runId}/cancel`,
  projectEvents: (id: string): string => `/api/projects/${id}/events`,
  events: (): string => "/api/events",
  actionOutput: (id: string, runId: string, index: number): string =>
    `/api/projects/${id}/runs/${runId}/actions/${index}/output`,
  projectPage: (id: string): string => `/projects/${id}`,
  pageMessages: (id: string): string => `/projects/${id}/messages`,
  pageCancel: (id: string, runId: string): string => `/projects/${id}/runs/${runId}/cancel`,
  pageForget: (id: string, memoryId: string): string => `/projects/${id}/memories/${memoryId}/forget`,
} as const;

/**
 * Whether a path matches a route pattern of {@linkcode ROUTES}.
 *
 * @example
 * ```ts
 * import { matches, ROUTES } from "./urls.ts";
 * console.log(matches(ROUTES.agui, "/api/projects/p1/agui")); // true
 * ```
 */
export function matches(pattern: string, path: string): boolean {
  // Asked on every POST: a regular expression per pattern, compiled once, tests in a fraction of a
  // URLPattern's time (no call into the runtime). `:name` is one non-empty segment, as in URLPattern.
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]\w*/g, "[^/]+");
    compiledPatterns.set(pattern, compiled = new RegExp(`^${source}$`));
  }
  return compiled.test(path);
}

const compiledPatterns = new Map<string, RegExp>();
