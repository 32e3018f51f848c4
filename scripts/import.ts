/**
 * `deno task import FILE [--kv PATH]`: reads a document made by
 * `deno task export` into a KV (by default `LANTERN_KV_PATH`, else
 * `./data/lantern.kv`), keeping ids. Projects the KV already has are
 * skipped and listed. Nothing is written when the document is invalid. The
 * whole outputs of cut tool actions come back with their runs, kept for
 * `LANTERN_RUN_TTL_MS` from now (24 h by default), like new ones.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { importKv } from "../lib/ops/kv_export.ts";
import { migrate } from "../lib/ops/migrations.ts";
import { openKv } from "../lib/store/kv.ts";

/** How long restored tool outputs are kept: `LANTERN_RUN_TTL_MS`, as the server keeps new ones. */
function outputTtl(): number {
  const raw = Deno.env.get("LANTERN_RUN_TTL_MS");
  if (raw === undefined || raw === "") return 24 * 60 * 60 * 1000;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new Error(`LANTERN_RUN_TTL_MS must be a positive whole number, got "${raw}".`);
  }
  return ms;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { kv: { type: "string" } },
  });
  const file = positionals[0];
  if (!file) {
    console.error("Usage: deno task import FILE [--kv PATH]");
    Deno.exit(2);
  }
  const path = values.kv ?? Deno.env.get("LANTERN_KV_PATH") ?? "./data/lantern.kv";
  try {
    let input: unknown;
    try {
      input = JSON.parse(await Deno.readTextFile(file));
    } catch (error) {
      throw new Error(
        error instanceof SyntaxError
          ? `"${file}" is not JSON.`
          : `"${file}" cannot be read: ${(error as Error).message}`,
      );
    }
    const kv = await openKv(path);
    try {
      await migrate(kv);
      const report = await importKv(kv, input, { outputTtlMs: outputTtl() });
      console.log(`Imported ${report.imported.length} projects into "${path}".`);
      if (report.skipped.length > 0) {
        console.log(`Skipped ${report.skipped.length} that already exist: ${report.skipped.join(", ")}`);
      }
    } finally {
      kv.close();
    }
  } catch (error) {
    console.error(`Import failed: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
