/**
 * The URLs of the built assets. `deno task build` writes them to
 * `static/dist/` under content-hashed names, with a manifest that maps each
 * logical name (`client.js`, `styles.css`, `inter.woff2`, `favicon.svg`) to
 * its URL; pages link to those URLs, which can be cached for a year.
 *
 * @module
 */

/** The folder the build writes to, and its manifest. */
export const DIST_DIR = "static/dist";
/** The manifest's path. */
export const MANIFEST_PATH = `${DIST_DIR}/manifest.json`;

let manifest: Record<string, string> | null = null;

/**
 * The URL of a built asset, by its logical name. Throws when the build has
 * not run (the page would load nothing).
 *
 * @example
 * ```ts ignore
 * import { assetUrl } from "./assets.ts";
 * console.log(assetUrl("client.js")); // /static/dist/client.1a2b3c4d5e.js
 * ```
 */
export function assetUrl(name: string, root: string = staticRoot()): string {
  if (!manifest) {
    try {
      manifest = JSON.parse(Deno.readTextFileSync(`${root}/${MANIFEST_PATH}`)) as Record<string, string>;
    } catch {
      throw new Error(`There is no "${MANIFEST_PATH}"; run \`deno task build\` first.`);
    }
  }
  const url = manifest[name];
  if (!url) throw new Error(`The build made no asset named "${name}"; run \`deno task build\`.`);
  return url;
}

/**
 * The folder that holds `static/` (styles, icons, the built assets): next to
 * the main module when it has one (so `dist/lantern.js` finds `dist/static/`
 * from any working directory), else the checkout's root.
 *
 * @example
 * ```ts
 * import { staticRoot } from "./assets.ts";
 * console.log(staticRoot().endsWith("/")); // true
 * ```
 */
export function staticRoot(): string {
  const candidates = [new URL("./", Deno.mainModule), new URL("../", import.meta.url)];
  for (const url of candidates) {
    if (url.protocol !== "file:") continue;
    try {
      if (Deno.statSync(new URL("static/styles.css", url)).isFile) return decodeURIComponent(url.pathname);
    } catch {
      // Not here (or not readable): try the next place.
    }
  }
  return "./";
}
