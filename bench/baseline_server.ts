/**
 * The baseline: a bare `Deno.serve` server that answers the same POST route
 * as Lantern's chat stream with the same number of events of a similar size,
 * as fast as the runtime allows, from a hand-written `pull()` ReadableStream
 * (one event per pull, `ts` stamped when the event is enqueued). It does no
 * work between events, so it bounds what any server on this runtime can do.
 *
 * Run it as its own process:
 * `PORT=0 deno run --allow-net=127.0.0.1 --allow-env --allow-read=/proc bench/baseline_server.ts`.
 * Environment: `PORT`, `HOST`, `BASELINE_PROGRESS` (progress events per run,
 * default 16), `BASELINE_TOKENS` (token events, default 10), `BASELINE_PAD`
 * (extra characters in each progress event's details, default 0),
 * `BASELINE_HOLD=1` (send the first event, then hold the stream open and
 * silent until the client leaves: the reference for memory per open stream).
 *
 * @module
 */

import { exitOnSignal, makeEventBuilder } from "./fake_events.ts";

const env = Deno.env.toObject();
const hostname = env.HOST || "127.0.0.1";
const port = Number(env.PORT || 0);
const progressCount = Number(env.BASELINE_PROGRESS || 16);
const tokenCount = Number(env.BASELINE_TOKENS || 10);
const pad = Number(env.BASELINE_PAD || 0);
const hold = env.BASELINE_HOLD === "1";
const never = new Promise<void>(() => {});

const encoder = new TextEncoder();
const sseHeaders = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
};
let nextProject = 0;
let nextRun = 0;

function eventStream(runId: string): ReadableStream<Uint8Array> {
  const build = makeEventBuilder(runId, progressCount, tokenCount, pad);
  let seq = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (hold && seq === 1) return never;
      seq++;
      const event = build(seq);
      event.ts = performance.timeOrigin + performance.now();
      controller.enqueue(encoder.encode(`id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`));
      if (seq === build.total) controller.close();
    },
  });
}

const runPath = /^\/api\/projects\/([^/]+)\/(chat-stream|runs)$/;
const eventsPath = /^\/api\/projects\/([^/]+)\/runs\/([^/]+)\/events$/;

const server = Deno.serve({
  hostname,
  port,
  onListen: ({ hostname, port }) => console.log(`Listening on http://${hostname}:${port}/`),
}, async (req) => {
  const url = new URL(req.url);
  if (req.method === "POST" && url.pathname === "/api/projects") {
    await req.body?.cancel();
    const id = `p${++nextProject}`;
    return Response.json({ id, name: "bench", createdAt: new Date().toISOString() }, {
      status: 201,
    });
  }
  if (req.method === "GET" && url.pathname === "/api/projects") {
    return Response.json([]);
  }
  const run = runPath.exec(url.pathname);
  if (req.method === "POST" && run) {
    await req.text();
    const runId = `r${++nextRun}`;
    if (run[2] === "chat-stream") {
      return new Response(eventStream(runId), { headers: sseHeaders });
    }
    const base = `/api/projects/${run[1]}/runs/${runId}`;
    return Response.json({ runId, eventsUrl: `${base}/events`, cancelUrl: `${base}/cancel` }, {
      status: 202,
    });
  }
  const events = eventsPath.exec(url.pathname);
  if (req.method === "GET" && events) {
    return new Response(eventStream(events[2]!), { headers: sseHeaders });
  }
  return new Response("not found", { status: 404 });
});

exitOnSignal(() => server.shutdown());
