/**
 * Schema versions and migrations. The version of what is stored lives at
 * `["meta", "schema"]` (absent in files written before versions existed:
 * that is version 0). At start-up {@linkcode migrate} runs, in order, every
 * migration newer than the stored version, and records each one as it
 * finishes, so an interrupted upgrade resumes where it stopped. Every
 * migration must be idempotent: it may run again after a crash mid-way.
 *
 * To change what is stored: add a migration at the end of
 * {@linkcode MIGRATIONS} with the next version, and never edit or reorder
 * one that has shipped. `tests/ops_migrations_test.ts` opens a KV file
 * written by an older main (`tests/fixtures/`) and uses it.
 *
 * @module
 */

/** The key holding the schema version. */
export const SCHEMA_KEY: Deno.KvKey = ["meta", "schema"];

/** What `["meta", "schema"]` holds. */
export interface SchemaVersion {
  version: number;
  /** ISO time the last migration finished. */
  migratedAt: string;
}

/** One step from `version - 1` to `version`. */
export interface Migration {
  version: number;
  /** What it changes, for the start-up log. */
  name: string;
  /** Does the work; safe to run twice. */
  up(kv: Deno.Kv): Promise<void>;
}

/**
 * Every migration, oldest first. Version 1 is the layout of main at 2dcb3ec
 * (projects, messages, memories, runs, run logs), which needs no change:
 * it only starts counting.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "start counting schema versions (the layout of 2dcb3ec is version 1)",
    up: () => Promise.resolve(),
  },
];

/** The version this code writes: the last migration's. */
export const CURRENT_SCHEMA: number = MIGRATIONS.at(-1)?.version ?? 0;

/** What {@linkcode migrate} did. */
export interface MigrationReport {
  from: number;
  to: number;
  applied: string[];
}

/** Reads the stored schema version (0 when none is stored). */
export async function schemaVersion(kv: Deno.Kv): Promise<number> {
  return (await kv.get<SchemaVersion>(SCHEMA_KEY)).value?.version ?? 0;
}

/**
 * Brings a KV up to the newest schema. Refuses (throws) a KV written by a
 * newer Lantern, which this code would misread. Several instances may start
 * at once: each migration is idempotent and the version only moves forward
 * (a compare-and-set on the key).
 *
 * @example
 * ```ts
 * import { CURRENT_SCHEMA, migrate } from "./migrations.ts";
 * const kv = await Deno.openKv(":memory:");
 * const report = await migrate(kv);
 * console.log(report.from, report.to === CURRENT_SCHEMA); // 0 true
 * console.log((await migrate(kv)).applied.length); // 0
 * kv.close();
 * ```
 */
export async function migrate(
  kv: Deno.Kv,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const versions = migrations.map((m) => m.version);
  if (versions.some((v, i) => v !== i + 1)) {
    throw new Error(`Migrations must be numbered 1, 2, 3… in order, got ${versions.join(", ")}.`);
  }
  const target = versions.at(-1) ?? 0;
  const from = await schemaVersion(kv);
  if (from > target) {
    throw new Error(
      `The KV store has schema version ${from}, newer than this Lantern knows (${target}); ` +
        `run a newer Lantern, or restore a backup made with this one.`,
    );
  }
  const applied: string[] = [];
  for (const migration of migrations.slice(from)) {
    await migration.up(kv);
    const entry = await kv.get<SchemaVersion>(SCHEMA_KEY);
    const stored = entry.value?.version ?? 0;
    if (stored >= migration.version) continue; // another instance got here first
    const next: SchemaVersion = { version: migration.version, migratedAt: new Date().toISOString() };
    const { ok } = await kv.atomic().check(entry).set(SCHEMA_KEY, next).commit();
    if (ok) applied.push(`${migration.version}: ${migration.name}`);
  }
  return { from, to: await schemaVersion(kv), applied };
}
