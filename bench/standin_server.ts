/**
 * A minimal stand-in for Lantern's server that follows the bench contract
 * (projects, chat-stream, runs + eventsUrl, pacing, keep-alives, optional
 * KV run log), so the harness can be built and tested before the real server
 * exists. It is not Lantern and its figures say nothing about Lantern.
 *
 * Environment: `PORT`, `HOST`, `LANTERN_KV_PATH`, `LANTERN_LOCAL_PACE_MS`,
 * `LANTERN_LOCAL_TOKEN_MS`, `LANTERN_HEARTBEAT_MS`, `LANTERN_RUN_LOG`.
 *
 * @module
 */

import { exitOnSignal, type FakeEvent, makeEventBuilder } from "./fake_events.ts";

const env = Deno.env.toObject();
const hostname = env.HOST || "127.0.0.1";
const port = Number(env.PORT || 0);
const paceMs = Number(env.LANTERN_LOCAL_PACE_MS || 0);
const tokenMs = Number(env.LANTERN_LOCAL_TOKEN_MS || 0);
const heartbeatMs = Number(env.LANTERN_HEARTBEAT_MS || 15_000);
const runLog = (env.LANTERN_RUN_LOG || "on") !== "off";
const kvPath = env.LANTERN_KV_PATH || ":memory:";
const kv = await Deno.openKv(kvPath);

const encoder = new TextEncoder();
const keepAlive = encoder.encode(": keep-alive\n\n");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Subscriber {
  send(bytes: Uint8Array): void;
  close(): void;
  lastWrite: number;
}

interface Run {
  id: string;
  events: Uint8Array[];
  subscribers: Set<Subscriber>;
  done: boolean;
}

const runs = new Map<string, Run>();
let nextRun = 0;

async function drive(run: Run): Promise<void> {
  const build = makeEventBuilder(run.id, 16, 10);
  for (let seq = 1; seq <= build.total; seq++) {
    const event: FakeEvent = build(seq);
    if (paceMs > 0 && seq <= 16 && seq % 2 === 0) await sleep(paceMs);
    if (tokenMs > 0 && seq > 16 && seq <= 26) await sleep(tokenMs);
    event.ts = performance.timeOrigin + performance.now();
    if (runLog) await kv.set(["runlog", run.id, seq], event);
    const bytes = encoder.encode(`id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`);
    run.events.push(bytes);
    for (const sub of run.subscribers) sub.send(bytes);
  }
  run.done = true;
  for (const sub of run.subscribers) sub.close();
  run.subscribers.clear();
  setTimeout(() => runs.delete(run.id), 60_000);
}

function follow(run: Run): ReadableStream<Uint8Array> {
  let sub: Subscriber | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const bytes of run.events) controller.enqueue(bytes);
      if (run.done) {
        controller.close();
        return;
      }
      sub = {
        lastWrite: performance.now(),
        send(bytes) {
          this.lastWrite = performance.now();
          controller.enqueue(bytes);
        },
        close() {
          heartbeat.delete(this);
          controller.close();
        },
      };
      run.subscribers.add(sub);
      heartbeat.add(sub);
    },
    cancel() {
      if (sub) {
        run.subscribers.delete(sub);
        heartbeat.delete(sub);
      }
    },
  });
}

// One shared timer for keep-alives, not one per stream.
const heartbeat = new Set<Subscriber>();
setInterval(() => {
  const now = performance.now();
  for (const sub of heartbeat) {
    if (now - sub.lastWrite >= heartbeatMs) sub.send(keepAlive);
  }
}, Math.max(10, Math.floor(heartbeatMs / 2)));

function startRun(): Run {
  const run: Run = { id: `r${++nextRun}`, events: [], subscribers: new Set(), done: false };
  runs.set(run.id, run);
  drive(run).catch((err) => console.error(err));
  return run;
}

const sseHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache" };
const runPath = /^\/api\/projects\/([^/]+)\/(chat-stream|runs)$/;
const eventsPath = /^\/api\/projects\/([^/]+)\/runs\/([^/]+)\/events$/;

const server = Deno.serve({
  hostname,
  port,
  onListen: ({ hostname, port }) => console.log(`Listening on http://${hostname}:${port}/`),
}, async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/api/projects") {
    if (req.method === "GET") return Response.json([]);
    if (req.method === "POST") {
      const body = await req.json().catch(() => ({}));
      const id = crypto.randomUUID();
      const project = { id, name: String(body.name ?? ""), createdAt: new Date().toISOString() };
      await kv.set(["projects", id], project);
      return Response.json(project, { status: 201 });
    }
  }
  const match = runPath.exec(url.pathname);
  if (req.method === "POST" && match) {
    await req.json().catch(() => ({}));
    const project = await kv.get(["projects", match[1]!]);
    if (!project.value) {
      return Response.json({ error: { code: "not_found", message: "No such project." } }, { status: 404 });
    }
    const run = startRun();
    if (match[2] === "chat-stream") {
      return new Response(follow(run), { headers: sseHeaders });
    }
    const base = `/api/projects/${match[1]}/runs/${run.id}`;
    return Response.json({ runId: run.id, eventsUrl: `${base}/events`, cancelUrl: `${base}/cancel` }, {
      status: 202,
    });
  }
  const events = eventsPath.exec(url.pathname);
  if (req.method === "GET" && events) {
    const run = runs.get(events[2]!);
    if (!run) return new Response("no such run", { status: 404 });
    return new Response(follow(run), { headers: sseHeaders });
  }
  return new Response("not found", { status: 404 });
});

exitOnSignal(async () => {
  await server.shutdown();
  kv.close();
});
