/**
 * The local engine's own work per message (`deno bench`): reading the
 * message (compromise, chrono-node), ranking memories (BM25 over stemmed
 * words, the same `rank` the search tool runs) and wording the answer,
 * without KV, HTTP or pacing. Before the benches it prints the CPU time
 * per message over a mix of everyday messages, from `process.cpuUsage()`.
 *
 * @module
 */

import process from "node:process";
import type { Analysis, EngineContext } from "../../lib/agent/engine.ts";
import { LocalEngine } from "../../lib/agent/local_engine.ts";
import { rank } from "../../lib/agent/words.ts";
import type { ActionResult, Memory } from "../../lib/protocol.ts";

const MEMORIES: Memory[] = [
  "The launch is on May 3",
  "Ana leads the design team",
  "Bob is the project manager",
  "The budget is $50,000",
  "The office is in Lisbon",
  "The standup is at 9:30",
  "Carla owns the backend",
  "The beta opens on April 20",
  "Dan writes the docs",
  "The demo is on Friday",
  "The staging server is called kestrel",
  "Eve runs QA",
  "The retro is every second Thursday",
  "The mascot is a fox",
  "The press kit is due on April 30",
  "Frank handles billing",
  "The design review is on April 15",
  "Grace is on call this week",
  "The launch party is at the lab",
  "The brand color is teal",
].map((text, i) => ({ id: `m${i}`, text, source: "user", createdAt: "2026-11-29T00:00:00.000Z" }));

const MESSAGES = [
  "Remember that the launch is on May 10",
  "When is the launch?",
  "Is the launch on June 1?",
  "Who leads design?",
  "The standup moved to 10:00",
  "Forget the mascot",
  "What do you remember?",
  "🚀 Remember that the mascot is 🦊",
  "Remember that Ana leads design and tell me when the launch is",
  "Thanks!",
];

const engine = new LocalEngine();
const project = { id: "p1", name: "Bench", createdAt: "2026-11-29T00:00:00.000Z" };

/** What the tools would return, computed without KV (ranking included). */
function outputs(plan: { tool: string; args: Record<string, unknown> }[]): ActionResult[] {
  return plan.map((action) => {
    let output: unknown = null;
    if (action.tool === "search_memories" || action.tool === "delete_memory") {
      output = rank(String(action.args.query), MEMORIES, (m) => m.text).map((r) => r.item);
    } else if (action.tool === "list_memories") output = MEMORIES;
    else if (action.tool === "save_memory") {
      output = { id: "new", text: action.args.text, source: "agent", createdAt: "2026-11-29T00:00:00.000Z" };
    }
    return { ...action, ok: true, summary: "", output, durationMs: 0 };
  });
}

/** One message through analyze, plan, the ranking and answer. */
async function handle(message: string): Promise<string> {
  const ctx: EngineContext = {
    runId: "r1",
    project,
    message,
    history: [],
    memories: MEMORIES,
    signal: new AbortController().signal,
    usage: { model: "local", inputTokens: 0, outputTokens: 0 },
  };
  const analysis: Analysis = await drain(engine.analyze(ctx));
  const plan = await drain(engine.plan(ctx, analysis));
  const actions = outputs(plan);
  let text = "";
  for await (const chunk of engine.answer(ctx, analysis, { plan, actions, added: [], removed: [] })) {
    if (chunk.kind === "token") text += chunk.delta;
  }
  return text;
}

async function drain<T>(gen: AsyncGenerator<unknown, T, void>): Promise<T> {
  while (true) {
    const next = await gen.next();
    if (next.done) return next.value;
  }
}

// Warm up (the first parse loads compromise's lexicon), then measure CPU per message.
for (let i = 0; i < 20; i++) for (const m of MESSAGES) await handle(m);
const rounds = 50;
const before = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < rounds; i++) for (const m of MESSAGES) await handle(m);
const cpu = process.cpuUsage(before);
const n = rounds * MESSAGES.length;
console.log(
  `local engine: ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms CPU per message ` +
    `(${((performance.now() - started) / n).toFixed(3)} ms wall), mean over ${n} everyday messages`,
);

Deno.bench(
  "local engine: everyday message (mean of 10 kinds)",
  { group: "local-engine", baseline: true },
  async () => {
    for (const m of MESSAGES) await handle(m);
  },
);
Deno.bench("local engine: remember a fact", { group: "local-engine" }, async () => {
  await handle("Remember that the launch is on May 10");
});
Deno.bench(
  "local engine: a question answered by ranking 20 memories",
  { group: "local-engine" },
  async () => {
    await handle("When is the launch?");
  },
);
Deno.bench("local engine: a yes/no question", { group: "local-engine" }, async () => {
  await handle("Is the launch on June 1?");
});
const PARAGRAPH = MEMORIES.map((m) => m.text).join(". ").repeat(4).slice(0, 2000);
Deno.bench("local engine: a 2,000-character paragraph of facts", { group: "local-engine-long" }, async () => {
  await handle(PARAGRAPH);
});
