import assert from "node:assert/strict";

interface Info {
  roots: string[];
  modules: { specifier: string; dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[] }[];
}

/** Every module the server loads at start-up: main.ts's static imports, followed through. */
async function loadedAtStart(): Promise<Set<string>> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: new URL("..", import.meta.url).pathname,
    stderr: "null",
  }).output();
  const info: Info = JSON.parse(new TextDecoder().decode(stdout));
  const graph = new Map(info.modules.map((m) => [
    m.specifier,
    (m.dependencies ?? []).filter((d) => d.code && !d.isDynamic).map((d) => d.code!.specifier),
  ]));
  const seen = new Set<string>(info.roots);
  const queue = [...info.roots];
  while (queue.length > 0) {
    for (const next of graph.get(queue.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

const packages = (loaded: string[], name: string) =>
  loaded.filter((s) => s.includes(`npm:/${name}@`) || s.includes(`npm:${name}@`));

Deno.test("only the chosen engine is loaded: neither the local engine's language libraries nor the OpenAI SDK at start-up", async () => {
  const loaded = [...await loadedAtStart()];
  assert.ok(loaded.some((s) => s.endsWith("/lib/agent/engines.ts")), "the graph reaches the engine factory");
  for (const heavy of ["compromise", "chrono-node", "openai"]) {
    // About 40 MiB (compromise) and 25 MiB (openai) of memory in a server that never uses them.
    assert.deepEqual(packages(loaded, heavy), [], heavy);
  }
});

Deno.test("AG-UI's modules load with the first AG-UI request, not at start-up", async () => {
  const loaded = [...await loadedAtStart()];
  assert.ok(loaded.some((s) => s.endsWith("/routes/api/agui.ts")), "the graph reaches the AG-UI route");
  // Its schemas (with a zod of their own) and its encoder: about 20 MiB at start-up.
  for (const heavy of ["@ag-ui/core", "@ag-ui/encoder"]) assert.deepEqual(packages(loaded, heavy), [], heavy);
});
