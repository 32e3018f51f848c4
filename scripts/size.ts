/**
 * `deno task size`: the JavaScript a project page loads, gzipped, against a
 * budget of 30 KB (fonts are not counted). It starts from the script the page
 * references (`client.js` in the build's manifest) and follows every chunk it imports, statically or
 * dynamically, so the total is an upper bound of what a visit downloads.
 * Exits with 1 when the total is over budget or a file is missing.
 *
 * @module
 */

import { assetUrl } from "../lib/assets.ts";

/** The budget for a project page's JavaScript, gzipped (bytes). */
export const BUDGET_BYTES = 30 * 1024;

/** One file of a page's JavaScript. */
export interface ScriptSize {
  /** The URL path the page loads it from. */
  path: string;
  bytes: number;
  gzipBytes: number;
}

const IMPORT =
  /(?:\bimport|\bexport)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The size of `bytes` gzipped (the compression a browser gets, give or take). */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Every script a page with `island` loads from `entry` (a URL path under
 * `/static/`): its static imports, and of its dynamic imports only that
 * island's chunk; read from `root` (the project directory), with plain and
 * gzipped sizes.
 *
 * @example
 * ```ts ignore
 * import { pageScripts } from "./size.ts";
 * const scripts = await pageScripts();
 * console.log(scripts.map((s) => s.path));
 * ```
 */
export async function pageScripts(entry?: string, root = ".", island = "ChatPanel"): Promise<ScriptSize[]> {
  const seen = new Map<string, ScriptSize>();
  const queue = [entry ?? assetUrl("client.js", root)];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const file = `${root}${path}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch {
      throw new Error(`The page loads "${path}", but "${file}" is missing; run \`deno task build\`.`);
    }
    // The gzip copy the server sends (made by the build at level 9), or the file gzipped here.
    const served = await Deno.stat(`${file}.gz`).then((info) => info.size, () => null);
    seen.set(path, { path, bytes: bytes.byteLength, gzipBytes: served ?? await gzipSize(bytes) });
    const text = new TextDecoder().decode(bytes);
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2];
      if (!specifier || !/^\.{1,2}\//.test(specifier)) continue;
      // A page loads only its own island's chunk (`<Island>-<hash>.js`) of those the entry could load.
      if (match[2] && !specifier.split("/").at(-1)!.startsWith(`${island}-`)) continue;
      queue.push(new URL(specifier, `http://page${path}`).pathname);
    }
  }
  return [...seen.values()];
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

if (import.meta.main) {
  let over = false;
  for (const [island, page] of [["ChatPanel", "A project page"], ["ProjectsLive", "The project list"]]) {
    let scripts: ScriptSize[];
    try {
      scripts = await pageScripts(undefined, ".", island);
    } catch (error) {
      console.error((error as Error).message);
      Deno.exit(1);
    }
    const total = scripts.reduce((sum, s) => sum + s.gzipBytes, 0);
    for (const s of scripts) {
      console.log(`${s.path.padEnd(40)} ${kb(s.bytes).padStart(9)} ${kb(s.gzipBytes).padStart(9)} gzipped`);
    }
    const verdict = total <= BUDGET_BYTES ? "within" : "OVER";
    console.log(
      `${page} loads ${kb(total)} of JavaScript gzipped (${total} bytes), ${verdict} the budget of ${
        kb(BUDGET_BYTES)
      }.\n`,
    );
    over ||= total > BUDGET_BYTES;
  }
  if (over) Deno.exit(1);
}
