/**
 * `deno task export [--kv PATH] [--out FILE]`: writes every project of a KV
 * (by default `LANTERN_KV_PATH`, else `./data/lantern.kv`) as one JSON
 * document, to FILE or stdout. The KV is migrated to the current schema
 * first. Safe while Lantern runs on the same file. Each project's document
 * also holds the whole outputs of its cut tool actions (`outputs`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { exportKv } from "../lib/ops/kv_export.ts";
import { migrate } from "../lib/ops/migrations.ts";
import { openKv } from "../lib/store/kv.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { kv: { type: "string" }, out: { type: "string" } },
  });
  const path = values.kv ?? Deno.env.get("LANTERN_KV_PATH") ?? "./data/lantern.kv";
  try {
    if (path !== ":memory:" && !/^https?:/.test(path)) await Deno.stat(path);
    const kv = await openKv(path);
    await migrate(kv);
    const doc = await exportKv(kv);
    kv.close();
    const json = JSON.stringify(doc, null, 2) + "\n";
    if (values.out) {
      await Deno.writeTextFile(values.out, json);
      console.error(`Exported ${doc.projects.length} projects from "${path}" to "${values.out}".`);
    } else {
      await Deno.stdout.write(new TextEncoder().encode(json));
    }
  } catch (error) {
    const message = error instanceof Deno.errors.NotFound
      ? `There is no KV file at "${path}".`
      : (error as Error).message;
    console.error(`Export failed: ${message}`);
    Deno.exit(1);
  }
}
