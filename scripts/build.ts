/**
 * `deno task build`: the assets a page loads, as a production site serves
 * them. The browser code (client.ts and its islands) is bundled with
 * `deno bundle` (browser platform, code splitting, minified); the styles,
 * the Inter variable font (from npm `@fontsource-variable/inter`) and the
 * icon are copied. Every file gets a content-hashed name in `static/dist/`,
 * every text file a Brotli (`.br`) and a gzip (`.gz`) copy, and
 * `manifest.json` maps each logical name to its URL (see lib/assets.ts).
 *
 * @module
 */

import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { DIST_DIR, MANIFEST_PATH } from "../lib/assets.ts";

const FONT = "@fontsource-variable/inter/files/inter-latin-wght-normal.woff2";
/** Where the styles name the font; the build puts the hashed URL there. */
const FONT_PLACEHOLDER = "/static/inter.woff2";

/**
 * The first 10 hex digits of the SHA-256 of `bytes`: a file's name changes
 * exactly when its content does.
 *
 * @example
 * ```ts
 * import { contentHash } from "./build.ts";
 * console.log((await contentHash(new TextEncoder().encode("hi"))).length); // 10
 * ```
 */
export async function contentHash(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].slice(0, 5).map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function write(name: string, bytes: Uint8Array, compress: boolean): Promise<void> {
  const path = `${DIST_DIR}/${name}`;
  await Deno.writeFile(path, bytes);
  if (!compress) return;
  await Deno.writeFile(
    `${path}.br`,
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  await Deno.writeFile(`${path}.gz`, gzipSync(bytes, { level: 9 }));
}

/** Writes `bytes` as `stem.<hash>.ext` and returns its URL. */
async function hashed(stem: string, ext: string, bytes: Uint8Array, compress = true): Promise<string> {
  const name = `${stem}.${await contentHash(bytes)}.${ext}`;
  await write(name, bytes, compress);
  return `/${DIST_DIR}/${name}`;
}

async function bundle(outdir: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--code-splitting",
      "--minify",
      "--outdir",
      outdir,
      "client.ts",
    ],
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    console.error(new TextDecoder().decode(stderr));
    throw new Error("The island bundle failed.");
  }
}

if (import.meta.main) {
  await Deno.remove(DIST_DIR, { recursive: true }).catch(() => {});
  await Deno.mkdir(DIST_DIR, { recursive: true });
  const tmp = await Deno.makeTempDir({ prefix: "lantern-bundle-" });
  try {
    await bundle(tmp);
    const manifest: Record<string, string> = {};
    // Chunks keep the names the bundler gave them (already content hashes);
    // the entry gets a hash of its own, since its name is fixed.
    for await (const entry of Deno.readDir(tmp)) {
      if (!entry.isFile || entry.name === "client.js") continue;
      await write(entry.name, await Deno.readFile(`${tmp}/${entry.name}`), true);
    }
    manifest["client.js"] = await hashed("client", "js", await Deno.readFile(`${tmp}/client.js`));
    const fontPath = new URL(import.meta.resolve(FONT)).pathname;
    manifest["inter.woff2"] = await hashed("inter-latin-wght", "woff2", await Deno.readFile(fontPath), false);
    const css = (await Deno.readTextFile("static/styles.css")).replaceAll(
      FONT_PLACEHOLDER,
      manifest["inter.woff2"],
    );
    manifest["styles.css"] = await hashed("styles", "css", new TextEncoder().encode(css));
    manifest["favicon.svg"] = await hashed("favicon", "svg", await Deno.readFile("static/favicon.svg"));
    await Deno.writeTextFile(MANIFEST_PATH, JSON.stringify(manifest, null, 2) + "\n");
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
