/**
 * Moving a project out of one Lantern and into another: {@linkcode exportProject}
 * reads everything a project has (the project, its conversation, its
 * memories, its runs' records) into one document, {@linkcode importProject}
 * writes such a document back, under new ids unless told to keep them.
 * Runs' event logs are not exported: they expire anyway, and a run's record
 * keeps its result. Long answers and results kept in parts in KV
 * (lib/store/chunks.ts) travel whole in the document and are split again on
 * import. The whole outputs of cut tool actions (lib/store/outputs.ts) go
 * only when asked (`deno task export`: they can be megabytes), and come back
 * with their run.
 *
 * @module
 */

import { HttpError } from "../http_error.ts";
import { newId } from "../ids.ts";
import type { Project } from "../protocol.ts";
import { BoundExceeded, type Bounds } from "../store/bounds.ts";
import { fitsOneValue, partsPrefix, restoreSpilled, spillIfLarge } from "../store/chunks.ts";
import { deletePrefix, listValues } from "../store/kv.ts";
import { OutputStore } from "../store/outputs.ts";
import { EXPORT_VERSION, type ProjectExport } from "./export_schema.ts";
import { CURRENT_SCHEMA } from "./migrations.ts";

/** The prefixes that hold a project's data, keyed by project id next. */
const PARTS = ["messages", "memories", "runs"] as const;
/** The field of each part's records that may be kept in parts when it is long. */
const LONG_FIELD = { messages: "content", memories: null, runs: "result" } as const;
/** Below KV's 1,000 mutations and ~800 KiB per atomic commit. */
const BATCH_MUTATIONS = 500;
const BATCH_CHARS = 400_000;

/**
 * Reads a project and everything it has into one export document, or null
 * when there is no such project.
 *
 * @example
 * ```ts
 * import { exportProject } from "./portable.ts";
 * import { createStores } from "../store/mod.ts";
 * const stores = createStores(await Deno.openKv(":memory:"));
 * const project = await stores.projects.create("Garden");
 * await stores.memories.add(project.id, { text: "Tomatoes by the wall", source: "user" });
 * const doc = await exportProject(stores.kv, project.id);
 * console.log(doc?.format, doc?.memories.length); // lantern.project 1
 * stores.kv.close();
 * ```
 */
export async function exportProject(
  kv: Deno.Kv,
  projectId: string,
  options: { outputs?: boolean } = {},
): Promise<ProjectExport | null> {
  const project = (await kv.get<Project>(["projects", projectId])).value;
  if (!project) return null;
  const [messages, memories, runs] = await Promise.all(PARTS.map(async (part) => {
    const records = await listValues<Record<string, unknown>>(kv, [part, projectId]);
    // Long answers and results are put back whole.
    return await Promise.all(records.map((r) => restoreSpilled(kv, [part, projectId, String(r.id)], r)));
  }));
  return {
    format: "lantern.project",
    version: EXPORT_VERSION,
    exportedAt: new Date().toISOString(),
    schema: CURRENT_SCHEMA,
    project: project as ProjectExport["project"],
    messages: messages as ProjectExport["messages"],
    memories: memories as ProjectExport["memories"],
    runs: runs as ProjectExport["runs"],
    ...(options.outputs ? { outputs: await new OutputStore(kv).all(projectId) } : {}),
  };
}

/** Options of {@linkcode importProject}. */
export interface ImportOptions {
  /**
   * Keep the document's ids (restoring a backup, moving a KV file); refused
   * with 409 when the project already exists. By default every id is new,
   * so the same document can be imported twice.
   */
  keepIds?: boolean;
  /** The bounds the new project must be within (memories); none: not checked. */
  bounds?: Pick<Bounds, "maxMemories" | "maxMemoryChars">;
  /** How long restored tool outputs are kept, in ms (`LANTERN_RUN_TTL_MS`); none: until the project goes. */
  outputTtlMs?: number;
}

/** Refuses a document this code cannot import faithfully (a clear 4xx). */
function checkDocument(doc: ProjectExport, bounds?: ImportOptions["bounds"]): void {
  if (doc.version > EXPORT_VERSION) {
    throw new HttpError(
      400,
      "unsupported_export_version",
      `The document is export version ${doc.version}; this Lantern reads version ${EXPORT_VERSION} or older.`,
    );
  }
  if (doc.schema > CURRENT_SCHEMA) {
    throw new HttpError(
      400,
      "unsupported_export_version",
      `The document was exported by a newer Lantern (schema ${doc.schema}, this one has ${CURRENT_SCHEMA}).`,
    );
  }
  const seen = new Set<string>([doc.project.id]);
  for (
    const [part, list] of [["messages", doc.messages], ["memories", doc.memories], [
      "runs",
      doc.runs,
    ]] as const
  ) {
    for (const record of list) {
      if (seen.has(record.id)) {
        throw new HttpError(400, "invalid_export", `The id "${record.id}" appears twice in the document.`);
      }
      seen.add(record.id);
      // A long answer or result is split into parts; anything else must fit one KV value.
      const field = LONG_FIELD[part];
      if (!fitsOneValue(field ? { ...record, [field]: null } : record)) {
        throw new HttpError(
          413,
          "record_too_large",
          `A record of ${part} ("${record.id}") is too large for one KV value (64 KiB).`,
        );
      }
    }
  }
  const runIds = new Set(doc.runs.map((r) => r.id));
  const stray = doc.outputs?.find((o) => !runIds.has(o.runId));
  if (stray) {
    throw new HttpError(
      400,
      "invalid_export",
      `The output of action ${stray.index} names the run "${stray.runId}", which the document does not have.`,
    );
  }
  if (!bounds) return;
  const long = doc.memories.find((m) => bounds.maxMemoryChars > 0 && m.text.length > bounds.maxMemoryChars);
  if (long) {
    throw new BoundExceeded(
      "memory_too_long",
      `The memory "${long.id}" is ${long.text.length} characters long; the most is ${bounds.maxMemoryChars} (LANTERN_MAX_MEMORY_CHARS).`,
    );
  }
  const current = doc.memories.filter((m) => m.supersededBy === undefined || m.supersededBy === null).length;
  if (bounds.maxMemories > 0 && current > bounds.maxMemories) {
    throw new BoundExceeded(
      "too_many_memories",
      `The document has ${current} current memories; a project may hold ${bounds.maxMemories} (LANTERN_MAX_MEMORIES).`,
    );
  }
}

/**
 * Writes an export document as a project and returns it. New ids throughout
 * (references between records follow: a message's run, a run's message, a
 * memory's run), made in the document's order so lists keep their order;
 * times and everything else are kept. A run the document has as `running`
 * is stored as `interrupted`: nothing here drives it. The project appears
 * only once all its data is written.
 *
 * @example
 * ```ts
 * import { exportProject, importProject } from "./portable.ts";
 * import { createStores } from "../store/mod.ts";
 * const stores = createStores(await Deno.openKv(":memory:"));
 * const original = await stores.projects.create("Garden");
 * const copy = await importProject(stores.kv, (await exportProject(stores.kv, original.id))!);
 * console.log(copy.name, copy.id !== original.id); // Garden true
 * stores.kv.close();
 * ```
 */
export async function importProject(
  kv: Deno.Kv,
  doc: ProjectExport,
  options: ImportOptions = {},
): Promise<Project> {
  checkDocument(doc, options.bounds);
  const ids = new Map<string, string>();
  if (!options.keepIds) {
    ids.set(doc.project.id, newId());
    for (const list of [doc.messages, doc.memories, doc.runs]) {
      for (const record of list) ids.set(record.id, newId());
    }
  }
  // Every string that is one of the document's ids becomes the new id, wherever it sits.
  const remapped = JSON.parse(
    JSON.stringify(doc),
    (_key, value) => typeof value === "string" ? ids.get(value) ?? value : value,
  ) as ProjectExport;
  const project = remapped.project as Project & Record<string, unknown>;
  if ((await kv.get(["projects", project.id])).value !== null) {
    throw new HttpError(409, "project_exists", `A project with the id "${project.id}" already exists.`);
  }
  const writes: [Deno.KvKey, unknown][] = [
    ...remapped.messages.map((m) => [["messages", project.id, m.id], m] as [Deno.KvKey, unknown]),
    ...remapped.memories.map((m) => [["memories", project.id, m.id], m] as [Deno.KvKey, unknown]),
    ...remapped.runs.map((r) => {
      const record = { ...r, projectId: project.id };
      if (record.status === "running") {
        Object.assign(record, {
          status: "interrupted",
          endedAt: record.endedAt ?? record.createdAt,
          error: {
            code: "interrupted",
            message: "The run was still going when it was exported.",
            step: null,
          },
        });
      }
      return [["runs", project.id, r.id], record] as [Deno.KvKey, unknown];
    }),
  ];
  try {
    let op = kv.atomic();
    let count = 0;
    let chars = 0;
    for (const [key, stated] of writes) {
      // Its long field's parts are written first, so no record points at parts not yet there.
      const field = LONG_FIELD[key[0] as keyof typeof LONG_FIELD];
      const value = field ? await spillIfLarge(kv, key, stated as Record<string, unknown>, field) : stated;
      const size = JSON.stringify(value).length;
      if (count > 0 && (count >= BATCH_MUTATIONS || chars + size > BATCH_CHARS)) {
        await commit(op);
        op = kv.atomic();
        count = 0;
        chars = 0;
      }
      op.set(key, value);
      count++;
      chars += size;
    }
    if (count > 0) await commit(op);
    const outputs = new OutputStore(kv, options.outputTtlMs);
    for (const o of remapped.outputs ?? []) await outputs.save(project.id, o.runId, o.index, o.json);
    await commit(
      kv.atomic().check({ key: ["projects", project.id], versionstamp: null }).set(
        ["projects", project.id],
        project,
      ),
    );
  } catch (error) {
    // Leave nothing behind that no project owns.
    for (const part of [...PARTS, "outputs"]) {
      await deletePrefix(kv, [part, project.id]).catch(() => {});
      await deletePrefix(kv, partsPrefix([part, project.id])).catch(() => {});
    }
    throw error;
  }
  return project;
}

async function commit(op: Deno.AtomicOperation): Promise<void> {
  const result = await op.commit();
  if (!result.ok) {
    throw new HttpError(409, "project_exists", "The project was created by someone else during the import.");
  }
}
