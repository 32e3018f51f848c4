/**
 * The wire protocol's events as a runtime schema, for code that receives
 * them from outside (the island, API clients in tests): a payload that does
 * not have the shape of a {@linkcode RunEvent} is refused, never cast. Built
 * with `zod/mini`, so it costs the island little.
 *
 * @example
 * ```ts
 * import { parseRunEvent } from "./wire_schema.ts";
 * console.log(parseRunEvent('{"type":"token","runId":"r1","seq":1,"ts":0,"delta":"Hi"}')?.type); // token
 * console.log(parseRunEvent('{"type":"token","seq":"one"}')); // null
 * ```
 *
 * A project feed carries both: {@linkcode parseFeedMessage} reads either.
 *
 * @module
 */

import * as z from "zod/mini";
import type { FeedEvent, RunEvent } from "./protocol.ts";
import { STEPS } from "./steps.ts";

const step = z.enum(STEPS);
const record = z.record(z.string(), z.unknown());
const stamp = { runId: z.string(), seq: z.number(), ts: z.number() };
const runError = z.object({ code: z.string(), message: z.string(), step: z.nullable(step) });
const action = z.object({
  index: z.number(),
  tool: z.string(),
  args: record,
  why: z.optional(z.string()),
  ok: z.boolean(),
  summary: z.string(),
  output: z.unknown(),
  truncated: z.optional(z.boolean()),
  fullUrl: z.optional(z.string()),
  durationMs: z.number(),
});

/** The schema of every event on the wire (a plain union: smaller in the island than a discriminated one). */
export const RunEventSchema = z.union([
  z.object({
    ...stamp,
    type: z.literal("progress"),
    progress: z.object({
      step,
      phase: z.enum(["start", "update", "end"]),
      message: z.string(),
      details: z.string(),
      timestamp: z.string(),
      metadata: record,
    }),
  }),
  z.object({ ...stamp, type: z.literal("action"), action }),
  z.object({ ...stamp, type: z.literal("token"), delta: z.string() }),
  z.object({ ...stamp, type: z.literal("result"), result: z.looseObject({ message: z.string() }) }),
  z.object({ ...stamp, type: z.literal("error"), error: runError }),
  z.object({
    ...stamp,
    type: z.literal("cancelled"),
    cancelled: z.object({ message: z.string(), step: z.nullable(step) }),
  }),
]);

/** An event from its JSON text, or null when it is not JSON or not an event. */
export function parseRunEvent(json: string): RunEvent | null {
  const parsed = RunEventSchema.safeParse(jsonOf(json));
  return parsed.success ? parsed.data as RunEvent : null;
}

/** The value of a JSON text, or undefined when it is not JSON (which no schema accepts). */
function jsonOf(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

const feedStamp = { seq: z.number(), ts: z.number() };
// What the island reads of each record; other fields pass through unchecked.
const message = z.looseObject({
  id: z.string(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  runId: z.nullable(z.string()),
});
const memory = z.looseObject({ id: z.string(), text: z.string() });
const project = z.looseObject({ id: z.string(), name: z.string() });

/** The schema of every change a feed sends. */
export const FeedEventSchema = z.union([
  z.object({ ...feedStamp, type: z.literal("run.started"), run: z.looseObject({ runId: z.string() }) }),
  z.object({ ...feedStamp, type: z.literal("run.ended"), runId: z.string(), status: z.string() }),
  z.object({ ...feedStamp, type: z.literal("message.added"), message }),
  z.object({ ...feedStamp, type: z.literal("memory.added"), memory }),
  z.object({ ...feedStamp, type: z.literal("memory.removed"), memoryId: z.string(), reason: z.string() }),
  z.object({ ...feedStamp, type: z.literal("project.created"), project }),
  z.object({ ...feedStamp, type: z.literal("project.renamed"), project }),
  z.object({ ...feedStamp, type: z.literal("project.deleted"), projectId: z.string() }),
  z.object({ ...feedStamp, type: z.literal("feed.reset"), message: z.string() }),
]);

/**
 * A feed's message from its JSON text: a change of the feed, a run event, or
 * null when it is neither.
 *
 * @example
 * ```ts
 * import { parseFeedMessage } from "./wire_schema.ts";
 * console.log(parseFeedMessage('{"type":"project.deleted","projectId":"p1","seq":3,"ts":0}')?.type); // project.deleted
 * console.log(parseFeedMessage('{"type":"token","runId":"r1","seq":1,"ts":0,"delta":"Hi"}')?.type); // token
 * ```
 */
export function parseFeedMessage(json: string): FeedEvent | RunEvent | null {
  const value = jsonOf(json);
  const type = (value as { type?: unknown } | null)?.type;
  const parsed = typeof type === "string" && type.includes(".")
    ? FeedEventSchema.safeParse(value)
    : RunEventSchema.safeParse(value);
  return parsed.success ? parsed.data as FeedEvent | RunEvent : null;
}
