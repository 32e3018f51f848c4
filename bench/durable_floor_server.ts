/**
 * The least a durable run can cost on this runtime: a reference, not
 * Lantern. For `POST …/chat-stream` it stores the user's message and the
 * run's record in one KV commit, streams the same 92 events as the scripted
 * engine (16 progress, 75 tokens, a result) from a hand-written `pull()`,
 * then stores the run's log, the reply and the final record in a second
 * commit. No agent, no feeds, no followers, no resume.
 *
 * Run it in the peer phase in Lantern's place (LANTERN_RUN_LOG=off there
 * means no KV at all):
 * `BENCH_LANTERN_MAIN=bench/durable_floor_server.ts deno run --allow-all bench/run.ts --only=peer --quick`.
 * With `FLOOR_GROUPED=1`, the commits of runs that start or end at about the
 * same moment are made together, as Lantern's shared commits do.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { exitOnSignal } from "./fake_events.ts";
import { STEPS } from "../lib/protocol.ts";

const env = Deno.env.toObject();
const kv = await Deno.openKv(env.LANTERN_KV_PATH || ":memory:");
const durable = env.LANTERN_RUN_LOG !== "off";
const grouped = env.FLOOR_GROUPED === "1";
const encoder = new TextEncoder();
const EVENTS = 92;
let nextId = 0;

type Writes = (op: Deno.AtomicOperation) => void;
let queue: { writes: Writes; done: () => void }[] = [];

/** Commits `writes` alone, or (grouped) with what else comes in this turn of the event loop. */
function commit(writes: Writes): Promise<unknown> {
  if (!grouped) {
    const op = kv.atomic();
    writes(op);
    return op.commit();
  }
  return new Promise<void>((done) => {
    if (queue.length === 0) setImmediate(flush);
    queue.push({ writes, done });
  });
}

function flush(): void {
  const all = queue;
  queue = [];
  // 40 runs a commit stays under KV's 800 KB per commit.
  for (let i = 0; i < all.length; i += 40) {
    const batch = all.slice(i, i + 40);
    const op = kv.atomic();
    for (const { writes } of batch) writes(op);
    op.commit().then(() => batch.forEach(({ done }) => done()));
  }
}

function event(runId: string, seq: number, answer: string): Record<string, unknown> {
  const ts = performance.timeOrigin + performance.now();
  if (seq <= 16) {
    const step = STEPS[Math.floor((seq - 1) / 2)];
    const phase = seq % 2 === 1 ? "start" : "end";
    return {
      type: "progress",
      runId,
      seq,
      ts,
      progress: { step, phase, message: `${step} ${phase}`, timestamp: new Date().toISOString() },
    };
  }
  if (seq < EVENTS) return { type: "token", runId, seq, ts, delta: "word " };
  return { type: "result", runId, seq, ts, result: { message: answer } };
}

function chatStream(projectId: string, message: string): Response {
  const runId = `r${++nextId}`;
  const started = durable
    ? commit((op) =>
      op.set(["messages", projectId, `${runId}u`], { role: "user", content: message })
        .set(["runs", projectId, runId], { id: runId, status: "running" })
        .set(["running", runId], projectId)
    )
    : Promise.resolve();
  let seq = 0;
  let answer = "";
  const log: string[] = [];
  const body = new ReadableStream<Uint8Array>({
    async start() {
      await started;
    },
    async pull(controller) {
      seq++;
      if (seq > 16 && seq < EVENTS) answer += "word ";
      const json = JSON.stringify(event(runId, seq, answer));
      log.push(json);
      controller.enqueue(encoder.encode(`id: ${seq}\ndata: ${json}\n\n`));
      if (seq < EVENTS) return;
      if (durable) {
        await commit((op) =>
          op.set(["run_events", runId], log.join("\n"))
            .set(["messages", projectId, `${runId}a`], { role: "assistant", content: answer })
            .set(["runs", projectId, runId], { id: runId, status: "succeeded" })
            .delete(["running", runId])
        );
      }
      controller.close();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
    },
  });
}

Deno.serve({
  hostname: env.HOST || "127.0.0.1",
  port: Number(env.PORT || 0),
  onListen: ({ port }) => console.log(`Listening on http://127.0.0.1:${port}/`),
}, async (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/api/projects") {
    if (request.method !== "POST") return Response.json([]);
    await request.body?.cancel();
    return Response.json({ id: `p${++nextId}` }, { status: 201 });
  }
  const match = /^\/api\/projects\/([^/]+)\/chat-stream$/.exec(path);
  if (!match || request.method !== "POST") return new Response("Not found", { status: 404 });
  const { message } = await request.json();
  return chatStream(match[1]!, String(message));
});
exitOnSignal(() => kv.close());
