import { LocalEngine } from "./lib/agent/local_engine.ts";
import { runAgent } from "./lib/agent/run_agent.ts";
import { createStores } from "./lib/store/mod.ts";
const kv = await Deno.openKv(":memory:");
const stores = createStores(kv);
const project = await stores.projects.create("Demo");
let n = 0;
for (const m of Deno.args) {
  const runId = `r${++n}`;
  const userMessage = await stores.messages.add(project.id, { role: "user", content: m, runId });
  for await (const e of runAgent({ runId, project, userMessage, stores, engine: new LocalEngine(), signal: new AbortController().signal })) {
    if (e.type === "progress" && e.progress.phase !== "start" && ["analyzing","planning","validation"].includes(e.progress.step)) console.log(`  [${e.progress.step}/${e.progress.phase}] ${e.progress.message} | ${e.progress.details}`);
    if (e.type === "result") console.log(`> ${m}\n${e.result.message}\n`);
  }
}
console.log(JSON.stringify(await stores.memories.list(project.id, { history: true }), null, 0));
