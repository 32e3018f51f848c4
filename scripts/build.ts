/**
 * Bundles the browser code (client.ts and its islands) into static/islands/
 * with `deno bundle`: browser platform, code splitting, minified.
 *
 * @module
 */

const OUT = "static/islands";

if (import.meta.main) {
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--code-splitting",
      "--minify",
      "--outdir",
      OUT,
      "client.ts",
    ],
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    console.error(new TextDecoder().decode(stderr));
    console.error("The island bundle failed.");
    Deno.exit(1);
  }
}
