/**
 * Whole-KV export and import (`deno task export`, `deno task import`): every
 * project as one `lantern.kv` document, for backups and moves between
 * machines. Import keeps ids, and skips a project that already exists.
 *
 * @module
 */

import type { Project } from "../protocol.ts";
import { HttpError } from "../http_error.ts";
import { listValues } from "../store/kv.ts";
import { EXPORT_VERSION, KvExport, ProjectExport } from "./export_schema.ts";
import { CURRENT_SCHEMA } from "./migrations.ts";
import { exportProject, importProject } from "./portable.ts";

/**
 * Every project of a KV, oldest first.
 *
 * @example
 * ```ts
 * import { exportKv } from "./kv_export.ts";
 * const kv = await Deno.openKv(":memory:");
 * console.log((await exportKv(kv)).projects.length); // 0
 * kv.close();
 * ```
 */
export async function exportKv(kv: Deno.Kv): Promise<KvExport> {
  const projects = await listValues<Project>(kv, ["projects"]);
  const docs: ProjectExport[] = [];
  for (const project of projects) {
    // A backup keeps the whole outputs of cut tool actions too.
    const doc = await exportProject(kv, project.id, { outputs: true });
    if (doc) docs.push(doc);
  }
  return {
    format: "lantern.kv",
    version: EXPORT_VERSION,
    exportedAt: new Date().toISOString(),
    schema: CURRENT_SCHEMA,
    projects: docs,
  };
}

/** What {@linkcode importKv} did. */
export interface KvImportReport {
  imported: string[];
  /** Projects whose id the KV already had. */
  skipped: string[];
}

/**
 * Imports a `lantern.kv` document (as parsed JSON), keeping ids. Throws an
 * Error naming the first problem before writing anything when the document
 * is invalid.
 *
 * @example
 * ```ts
 * import { exportKv, importKv } from "./kv_export.ts";
 * const from = await Deno.openKv(":memory:");
 * await from.set(["projects", "0".repeat(37)], { id: "0".repeat(37), name: "A", createdAt: "2026-01-01T00:00:00.000Z" });
 * const to = await Deno.openKv(":memory:");
 * console.log((await importKv(to, await exportKv(from))).imported.length); // 1
 * from.close();
 * to.close();
 * ```
 */
export async function importKv(
  kv: Deno.Kv,
  input: unknown,
  options: { outputTtlMs?: number } = {},
): Promise<KvImportReport> {
  const parsed = KvExport.safeParse(input);
  if (!parsed.success) throw new Error(`This is not a Lantern KV export: ${parsed.error.issues[0]?.message}`);
  const docs: ProjectExport[] = [];
  for (const [index, raw] of parsed.data.projects.entries()) {
    const doc = ProjectExport.safeParse(raw);
    if (!doc.success) {
      const issue = doc.error.issues[0];
      throw new Error(
        `Project ${index + 1} of the export is invalid: ${issue?.path.join(".")}: ${issue?.message}`,
      );
    }
    docs.push(doc.data);
  }
  const report: KvImportReport = { imported: [], skipped: [] };
  for (const doc of docs) {
    try {
      report.imported.push((await importProject(kv, doc, { keepIds: true, ...options })).id);
    } catch (error) {
      if (error instanceof HttpError && error.code === "project_exists") report.skipped.push(doc.project.id);
      else throw error;
    }
  }
  return report;
}
