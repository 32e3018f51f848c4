/**
 * The local engine's own work per message (`deno bench`, part of `deno task
 * bench`): reading the message (compromise, the light tagger, chrono-node),
 * ranking memories (BM25 over stemmed words, the same `rank` the search tool
 * runs) and wording the answer, without KV, HTTP or pacing. Before the
 * benches it prints the CPU time per message (`process.cpuUsage()`) for
 * README's five examples, everyday messages, a short question against 200
 * memories, and a 2,000-character paragraph of facts that is new every time
 * (so no cache holds it).
 *
 * @module
 */

import process from "node:process";
import type { Analysis, EngineContext } from "../../lib/agent/engine.ts";
import { LocalEngine } from "../../lib/agent/local_engine.ts";
import { rank } from "../../lib/agent/words.ts";
import type { ActionResult, Memory } from "../../lib/protocol.ts";

const CREATED = "2026-11-29T00:00:00.000Z";
const memory = (text: string, i: number): Memory => ({
  id: `m${i}`,
  text,
  source: "user",
  createdAt: CREATED,
});

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
].map(memory);

// deno-fmt-ignore
const PEOPLE = ["Ana", "Bob", "Carla", "Dan", "Eve", "Frank", "Grace", "Hugo", "Iris", "Jonas", "Kim", "Leo", "Mia", "Noah", "Olga", "Paula", "Quinn", "Rosa", "Sam", "Tara"];
// deno-fmt-ignore
const THINGS = ["the design review", "the code freeze", "the beta", "the press kit", "the pricing page", "the partner summit", "the security audit", "the offsite", "the board meeting", "the hackathon"];
// deno-fmt-ignore
const AREAS = ["billing", "the mobile app", "the backend", "QA", "the docs", "support", "the website", "hiring", "legal", "marketing"];
const MONTHS = ["March", "April", "May", "June", "July"];

/** 200 memories of the kinds people keep: dates, who does what, places, amounts. */
const MANY: Memory[] = [
  ...MEMORIES.map((m) => m.text),
  ...Array.from({ length: 180 }, (_, i) => {
    const person = PEOPLE[i % PEOPLE.length]!;
    const thing = THINGS[i % THINGS.length]!;
    const area = AREAS[(i * 7) % AREAS.length]!;
    switch (i % 4) {
      case 0:
        return `${thing.replace(/^the/, `The ${i}th`)} is on ${MONTHS[i % 5]} ${1 + (i % 28)}`;
      case 1:
        return `${person} owns ${area} for team ${i}`;
      case 2:
        return `The room for ${thing.slice(4)} ${i} is ${100 + i}`;
      default:
        return `The budget for ${area} ${i} is $${(i * 1000).toLocaleString("en")}`;
    }
  }),
].map(memory);

/** README's five examples ("Nothing else is needed… try:"). */
const README = [
  "Remember that the launch is on May 3",
  "When is the launch?",
  "List memories",
  "Forget the launch",
  "Summarize the project",
];

const EVERYDAY = [
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

// deno-fmt-ignore
const NOTE_POOL = [
  "The launch is on May 3 in the main hall of the Lisbon office", "Ana leads the design team and reviews every screen",
  "Bob is the project manager and runs the weekly planning meeting", "The budget for the first quarter is $50,000",
  "The standup is at 9:30 every morning in the small meeting room", "Carla owns the backend services and the pipeline",
  "The public beta opens on April 20 for the first thousand users", "Dan writes the user documentation",
  "The API freeze is on April 28 so the mobile apps can catch up", "Eve runs quality assurance with two testers",
  "The retrospective is every second Thursday after lunch", "The staging server is called kestrel",
  "Frank handles billing questions from the enterprise customers", "The design review is on April 15",
  "Grace is the on-call engineer this week and carries the pager", "The press kit goes to twelve journalists",
  "Hugo manages the partner program and the reseller contracts", "The pricing page goes live on May 1",
  "Iris translates the app into Portuguese and Spanish", "The support inbox is watched by Jonas",
  "The code freeze starts on April 25 at six in the evening", "Kim plans the marketing campaign in Madrid",
  "Leo maintains the mobile app and answers its store reviews", "The advisory board meets on the first Monday",
  "Mia coordinates the launch event and the catering order", "The brand color is teal and the logo is a lantern",
  "Noah reviews security before each release goes out", "The app store listing waits for final screenshots",
  "Olga handles legal questions and signs the vendor contracts", "The launch party is at the lab on May 3",
  "Paula books the travel for the launch team", "The newsletter goes out every Tuesday morning at eight",
  "The office in Porto opens at eight", "The wifi password is on the fridge", "Rosa owns the hiring plan",
  "The offsite is in Sintra in June", "Sam runs the data team", "The server bill is $1,200 a month",
];

/** A new paragraph of about 2,000 characters for each call: the pool shuffled, with its own numbers. */
function paragraph(seed: number): string {
  let state = seed * 2654435761 >>> 0;
  const next = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const pool = NOTE_POOL.map((s) => s.replace(/\d+/, (d) => String((Number(d) + seed) % 28 + 1)));
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  let text = "";
  for (const s of pool) {
    if (text.length + s.length + 2 > 2000) break;
    text += `${s}. `;
  }
  return text.trim();
}

const engine = new LocalEngine();
const project = { id: "p1", name: "Bench", createdAt: CREATED };

/** What the tools would return, computed without KV (ranking included). */
function outputs(
  plan: { tool: string; args: Record<string, unknown> }[],
  memories: Memory[],
): ActionResult[] {
  return plan.map((action) => {
    let output: unknown = null;
    if (action.tool === "search_memories" || action.tool === "delete_memory") {
      output = rank(String(action.args.query), memories, (m) => m.text).map((r) => r.item);
    } else if (action.tool === "list_memories") output = memories;
    else if (action.tool === "summarize_project") {
      output = { memories, messageCount: 3, userMessages: 2, recent: ["When is the launch?"] };
    } else if (action.tool === "save_memory") {
      output = { id: "new", text: action.args.text, source: "agent", createdAt: CREATED };
    }
    return { ...action, ok: true, summary: "", output, durationMs: 0 };
  });
}

/** One message through analyze, plan, the ranking and answer. */
async function handle(message: string, memories: Memory[] = MEMORIES): Promise<string> {
  const ctx: EngineContext = {
    runId: "r1",
    project,
    message,
    history: [],
    memories,
    signal: new AbortController().signal,
    usage: { model: "local", inputTokens: 0, outputTokens: 0 },
  };
  const analysis: Analysis = await drain(engine.analyze(ctx));
  const plan = await drain(engine.plan(ctx, analysis));
  const actions = outputs(plan, memories);
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

/**
 * CPU ms per message: `messages(round)` handled `rounds` times, in 10 batches
 * after a warm-up of 20 rounds; the median batch and the best one. On a
 * shared machine the median is what a message costs when the engine gets a
 * core, and the best batch is the floor. A batch's messages are made before
 * its clock starts: writing a new paragraph is the bench's work, not the engine's.
 */
async function cpuPerMessage(
  messages: (round: number) => string[],
  memories: Memory[],
  rounds: number,
): Promise<string> {
  for (let i = 0; i < 20; i++) for (const m of messages(-1 - i)) await handle(m, memories);
  const batches: number[] = [];
  let n = 0;
  for (let batch = 0; batch < 10; batch++) {
    const sent = Array.from({ length: rounds / 10 }, (_, i) => messages(batch * rounds + i)).flat();
    const before = process.cpuUsage();
    for (const m of sent) await handle(m, memories);
    const cpu = process.cpuUsage(before);
    batches.push((cpu.user + cpu.system) / 1000 / sent.length);
    n += sent.length;
  }
  batches.sort((a, b) => a - b);
  const median = (batches[4]! + batches[5]!) / 2;
  return `${median.toFixed(3)} ms median, ${batches[0]!.toFixed(3)} ms best (10 batches, ${n} messages)`;
}

// Printed first, so `deno task bench` shows the figures BENCHMARKS.md quotes.
console.log("local engine, CPU per message (parse, retrieval, wording):");
console.log(`  README's five examples:             ${await cpuPerMessage(() => README, MEMORIES, 100)}`);
console.log(`  everyday messages (10 kinds):       ${await cpuPerMessage(() => EVERYDAY, MEMORIES, 50)}`);
console.log(
  `  a short question, 200 memories:     ${await cpuPerMessage(() => ["When is the launch?"], MANY, 500)}`,
);
console.log(
  `  a 2,000-character paragraph (new):  ${await cpuPerMessage((i) => [paragraph(i + 100)], MEMORIES, 200)}`,
);

let round = 1000;
Deno.bench("local engine: README's five examples", { group: "local-engine", baseline: true }, async () => {
  for (const m of README) await handle(m);
});
Deno.bench("local engine: remember a fact", { group: "local-engine" }, async () => {
  await handle("Remember that the launch is on May 10");
});
Deno.bench("local engine: a yes/no question", { group: "local-engine" }, async () => {
  await handle("Is the launch on June 1?");
});
Deno.bench("local engine: a short question against 200 memories", { group: "local-engine" }, async () => {
  await handle("When is the launch?", MANY);
});
Deno.bench("local engine: a new 2,000-character paragraph of facts", { group: "local-engine" }, async () => {
  await handle(paragraph(round++));
});
