/**
 * The release folder: `scripts/dist.ts` builds it, and it runs from an empty
 * folder elsewhere (health, a chat-stream run with all eight steps, the page
 * and its assets).
 */

import assert from "node:assert/strict";
import { buildDist } from "../scripts/dist.ts";
import { smokeTest } from "../scripts/dist_smoke.ts";
import { STEPS } from "../lib/protocol.ts";

Deno.test("dist: one bundle and static/ beside it, and it runs from an empty folder", async () => {
  const out = await Deno.makeTempDir({ prefix: "lantern-dist-" });
  try {
    const { files } = await buildDist(out, { buildIslands: false });
    assert.ok(files.includes("lantern.js"), `lantern.js is missing from ${files.join(", ")}`);
    assert.ok(files.includes("static/styles.css"));
    // The island's bundle, by its content-hashed name, with the manifest that names it.
    assert.ok(files.some((f) => /^static\/dist\/client\.[0-9a-z]+\.js$/.test(f)), files.join(", "));
    assert.ok(files.includes("static/dist/manifest.json"));
    assert.deepEqual(
      files.filter((f) => f !== "lantern.js" && !f.startsWith("static/")),
      [],
      "nothing but the bundle and static/",
    );
    const bundle = await Deno.readTextFile(`${out}/lantern.js`);
    // Doc comments the bundler keeps (a method's runnable example) may quote an import; code may not.
    assert.doesNotMatch(bundle, /^(?!\s*\*).*from "(?:npm:|jsr:|\.\.?\/)/m, "every import is bundled");

    const report = await smokeTest(out);
    assert.deepEqual(report.steps, [...STEPS]);
    assert.match(report.answer, /smoke test passed/);
    // The island's script, by its content-hashed name, and the stylesheet were served from the copy.
    assert.ok(
      report.assets.some((a) => /^\/static\/dist\/client\.[0-9a-z]+\.js$/.test(a)),
      report.assets.join(),
    );
    assert.ok(report.assets.some((a) => a.endsWith(".css")), report.assets.join());
    // The folder it ran from is gone: nothing was left behind.
    await assert.rejects(Deno.stat(report.ranFrom));
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});
