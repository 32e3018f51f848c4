/**
 * The island's small helpers around `fetch`: JSON calls that turn every
 * failure into an {@linkcode ApiError} with the server's sentence, and the
 * terminal event a finished run's record stands for.
 *
 * @module
 */

import { parseRunEvent } from "../wire_schema.ts";
import type { ErrorBody, RunEvent } from "../protocol.ts";

/** An API error with its HTTP status (0: no answer at all, the network is down). */
export class ApiError extends Error {
  /** An error for `status` (0 when nothing answered). */
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Calls the API and returns its JSON, or throws an {@linkcode ApiError}.
 *
 * @example
 * ```ts ignore
 * const project = await api<Project>(`/api/projects/${id}`);
 * ```
 */
export async function api<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      headers: { accept: "application/json", ...(init?.body ? { "content-type": "application/json" } : {}) },
    });
  } catch {
    throw new ApiError(0, "The server cannot be reached. Check your connection and try again.");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as ErrorBody | null)?.error?.message ?? `The server answered ${res.status}.`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { pause } from "./api.ts";
 * await pause(1);
 * ```
 */
export const pause = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every event of a run that has ended, read in one request from its event
 * stream (which closes after the terminal event): for a rail opened later.
 *
 * @example
 * ```ts ignore
 * const events = await readRunEvents(`/api/projects/${p}/runs/${r}/events`);
 * ```
 */
export async function readRunEvents(eventsUrl: string): Promise<RunEvent[]> {
  const res = await fetch(eventsUrl, { headers: { accept: "text/event-stream" } });
  if (!res.ok) throw new ApiError(res.status, `The steps of this run cannot be read (${res.status}).`);
  const events: RunEvent[] = [];
  for (const line of (await res.text()).split(/\r\n|\r|\n/)) {
    if (!line.startsWith("data:")) continue;
    try {
      // Checked, not cast: a payload that is not an event is dropped.
      const event = parseRunEvent(line.slice(5));
      if (event) events.push(event);
    } catch {
      // A line that is not an event (never sent by Lantern): skip it.
    }
  }
  return events;
}
