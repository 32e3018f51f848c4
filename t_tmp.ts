import { read } from "./lib/agent/local/reader.ts";
const src = await Deno.readTextFile("tests/local_conversations_test.ts");
const notes = [...src.matchAll(/^  "([^"]+)",$/gm)].map(m=>m[1]);
for (const n of notes) { const r = read(n + "."); if (r.length !== 1 || r[0].intent !== "other" || r[0].facts.length !== 1) console.log(n, JSON.stringify(r.map(x=>[x.intent,x.facts.length,x.cue]))); }
