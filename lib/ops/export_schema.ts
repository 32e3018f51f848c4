/**
 * The export format (version 1): one JSON document per project, and one per
 * KV file that holds a list of them. Records keep every field they have (a
 * newer Lantern's extra fields travel through); the schema checks what
 * import relies on.
 *
 * ```
 * { "format": "lantern.project", "version": 1, "exportedAt", "schema",
 *   "project": {…}, "messages": [{…}], "memories": [{…}], "runs": [{…}],
 *   "outputs": [{ "runId", "index", "json" }] }
 * { "format": "lantern.kv", "version": 1, "exportedAt", "schema", "projects": [<project document>] }
 * ```
 *
 * @module
 */

import { z } from "zod";
import { isId } from "../ids.ts";

/** The version of the export format this code writes and reads. */
export const EXPORT_VERSION = 1;

/** The largest document `POST /api/projects/import` reads (32 MiB). */
export const IMPORT_MAX_BYTES = 32 * 1024 * 1024;

/** A project, run, memory or message id (see lib/ids.ts). */
const Id = z.string().refine(isId, "An id is 37 lowercase letters and digits.");
const Time = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/, "must be an ISO 8601 UTC time");

const ProjectRecord = z.looseObject({
  id: Id,
  name: z.string().min(1).max(200),
  createdAt: Time,
});

const MessageRecord = z.looseObject({
  id: Id,
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  runId: Id.nullable(),
  createdAt: Time,
  status: z.enum(["cancelled", "interrupted", "failed"]).optional(),
});

const MemoryRecord = z.looseObject({
  id: Id,
  text: z.string().min(1),
  source: z.enum(["user", "agent"]),
  createdAt: Time,
  runId: Id.optional(),
});

const RunRecord = z.looseObject({
  id: Id,
  projectId: Id,
  message: z.string(),
  status: z.enum(["running", "succeeded", "failed", "cancelled", "interrupted"]),
  createdAt: Time,
  endedAt: Time.nullable(),
  messageId: Id,
  engine: z.string(),
});

/** A project's export document. */
export const ProjectExport = z.object({
  format: z.literal("lantern.project", { error: 'The document\'s "format" must be "lantern.project".' }),
  version: z.number().int().min(1),
  exportedAt: Time,
  /** The KV schema version of the Lantern that exported it. */
  schema: z.number().int().min(0),
  project: ProjectRecord,
  messages: z.array(MessageRecord).max(1_000_000),
  memories: z.array(MemoryRecord).max(1_000_000),
  runs: z.array(RunRecord).max(1_000_000),
  /** The whole outputs of cut tool actions (`deno task export` only; they expire with the run's log). */
  outputs: z.array(z.object({ runId: Id, index: z.number().int().min(0), json: z.string() }))
    .max(1_000_000).optional(),
});

/** A project's export document. */
export type ProjectExport = z.infer<typeof ProjectExport>;

/** A whole KV file's export document. */
export const KvExport = z.object({
  format: z.literal("lantern.kv", { error: 'The document\'s "format" must be "lantern.kv".' }),
  version: z.number().int().min(1),
  exportedAt: Time,
  schema: z.number().int().min(0),
  projects: z.array(z.unknown()),
});

/** A whole KV file's export document. */
export type KvExport = z.infer<typeof KvExport>;
