/**
 * Builds the release folder (`deno task dist`): the server bundled into one
 * module, `dist/lantern.js` (`deno bundle --platform deno`, npm packages and
 * the .tsx pages included), and `dist/static/` beside it (styles, icon and
 * the island bundles from `deno task build`). Nothing else: the folder runs
 * anywhere with `deno run -A --unstable-kv dist/lantern.js`.
 *
 * `--out DIR` writes somewhere else (the tests build into a temp folder).
 *
 * @module
 */

import { join } from "node:path";

/** What a build made: the bundle and the files of `static/`, relative to the folder. */
export interface DistBuild {
  outDir: string;
  files: string[];
}

async function run(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`"deno ${args.join(" ")}" failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

async function copyDir(from: string, to: string, files: string[], prefix: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) {
      await copyDir(source, target, files, `${prefix}${entry.name}/`);
    } else if (entry.isFile) {
      await Deno.copyFile(source, target);
      files.push(`${prefix}${entry.name}`);
    }
  }
}

/**
 * Builds the islands, bundles the server and copies `static/` into `outDir`
 * (emptied first). Run from the checkout's root. `buildIslands: false`
 * reuses the built assets in `static/dist/` as they are (the test suite has
 * just built them, and other tests read them while they run).
 *
 * @example
 * ```ts ignore
 * import { buildDist } from "./dist.ts";
 * const { files } = await buildDist("dist");
 * console.log(files.includes("lantern.js")); // true
 * ```
 */
export async function buildDist(
  outDir: string,
  { buildIslands = true }: { buildIslands?: boolean } = {},
): Promise<DistBuild> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  if (buildIslands) {
    await run(["run", "--allow-read", "--allow-write", "--allow-env", "--allow-run", "scripts/build.ts"]);
  }
  await run(["bundle", "--quiet", "--platform", "deno", "--output", join(outDir, "lantern.js"), "main.ts"]);
  const files = ["lantern.js"];
  await copyDir("static", join(outDir, "static"), files, "static/");
  return { outDir, files: files.sort() };
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--out");
  const outDir = at >= 0 ? Deno.args[at + 1] ?? "dist" : "dist";
  try {
    const { files } = await buildDist(outDir);
    let bytes = 0;
    for (const file of files) bytes += (await Deno.stat(join(outDir, file))).size;
    console.log(`Built ${outDir}/: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB.`);
    console.log(`Run it from anywhere: deno run -A --unstable-kv ${outDir}/lantern.js`);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
