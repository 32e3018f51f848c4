/**
 * The event stream over real HTTP, read incrementally: events arrive while
 * the run is still going, in the wire format the protocol promises, with
 * keep-alives in silences, CORS for listed origins, and a run that finishes
 * and is saved when its client goes away.
 */

import assert from "node:assert/strict";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { followEvents } from "../lib/runs/cursor.ts";
import { type Message, type RunEvent, STEPS } from "../lib/protocol.ts";
import { isTerminal } from "../lib/runs/outcome.ts";
import { call, chatStream, createProject, readEvents, startServer } from "./helpers.ts";

Deno.test("the first events arrive while the run is still going, not all at the end", async () => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "100" });
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that the launch is on May 3");
  assert.equal(res.status, 200);
  const received:
    (RunEvent & { at: number; id: string | undefined; event: string | undefined; raw: string })[] = [];
  for await (const message of readEvents(res)) {
    received.push({
      ...(JSON.parse(message.data) as RunEvent),
      at: message.at,
      id: message.id,
      event: message.event,
      raw: message.data,
    });
  }
  const terminal = received.at(-1)!;
  assert.equal(terminal.type, "result");
  // Causal, not a speed claim: the client held the first event before the
  // server had emitted the last one (both clocks are this process's).
  assert.ok(
    received[0]!.at < terminal.ts,
    `first event received at ${received[0]!.at}, terminal emitted at ${terminal.ts}`,
  );
  // And more than the first: every step's start reached the client before the run ended.
  const starts = received.filter((e) => e.type === "progress" && e.progress.phase === "start");
  assert.deepEqual(starts.map((e) => e.type === "progress" && e.progress.step), [...STEPS]);
  for (const e of starts.slice(0, -1)) assert.ok(e.at < terminal.ts);
});

Deno.test("each event is id: <seq> and one data line of JSON, no event field, seq 1..n, ts increasing", async () => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "5" });
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "What do you remember?");
  const events: RunEvent[] = [];
  for await (const message of readEvents(res)) {
    assert.equal(message.event, undefined, "an event: field was sent");
    // Several data lines would reach the parser joined by "\n".
    assert.ok(!message.data.includes("\n"), "more than one data line");
    const event = JSON.parse(message.data) as RunEvent;
    assert.equal(message.id, String(event.seq));
    assert.deepEqual(Object.keys(event).slice(0, 4), ["type", "runId", "seq", "ts"]);
    events.push(event);
  }
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.ts > events[i - 1]!.ts, `ts did not increase at seq ${events[i]!.seq}`);
  }
  assert.ok(Math.abs(events[0]!.ts - Date.now()) < 60_000, "ts is not epoch milliseconds");
  assert.ok(events.some((e) => !Number.isInteger(e.ts)), "ts has no sub-millisecond fraction");
  const runIds = new Set(events.map((e) => e.runId));
  assert.equal(runIds.size, 1);
  // The terminal event is last and the stream ended right after it.
  assert.equal(events.filter(isTerminal).length, 1);
  assert.ok(isTerminal(events.at(-1)!));
  const progress = events.filter((e) => e.type === "progress");
  assert.ok(progress.length >= 16);
  const tokens = events.flatMap((e) => e.type === "token" ? [e.delta] : []);
  const last = events.at(-1)!;
  assert.ok(last.type === "result");
  assert.equal(tokens.join(""), last.result.message);
});

Deno.test("the raw bytes are exactly the frames: id line, one data line, blank line", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "hi");
  const text = await res.text();
  const frames = text.split("\n\n");
  assert.equal(frames.pop(), "", "the stream does not end with a blank line");
  for (const [i, frame] of frames.entries()) {
    const lines = frame.split("\n");
    assert.equal(lines.length, 2, `frame ${i + 1} has ${lines.length} lines`);
    assert.equal(lines[0], `id: ${i + 1}`);
    assert.match(lines[1]!, /^data: \{"type":"\w+","runId":"[0-9a-z]{37}","seq":\d+,"ts":[\d.]+,/);
  }
});

Deno.test("a keep-alive comment goes out while a run is silent", async () => {
  await using server = await startServer({ LANTERN_HEARTBEAT_MS: "50", LANTERN_LOCAL_PACE_MS: "300" });
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "list memories");
  const decoder = new TextDecoder();
  let raw = "";
  // Read raw bytes until a keep-alive has come after the first event; the
  // rest of the run is not needed (closing the server stops it).
  for await (const chunk of res.body!) {
    raw += decoder.decode(chunk, { stream: true });
    if (/^id: 1\n[\s\S]*\n: keep-alive\n\n/.test(raw)) break;
  }
  assert.match(raw, /\n: keep-alive\n\n/);
  // The comments sit between frames, and the parser sees only run events.
  const comments: string[] = [];
  const parsed = await Array.fromAsync(
    ReadableStream.from([raw]).pipeThrough(
      new EventSourceParserStream({ onComment: (c) => comments.push(c) }),
    ),
  );
  assert.ok(comments.length >= 1);
  assert.ok(comments.every((c) => c.trim() === "keep-alive"));
  const events = parsed.map((m) => JSON.parse(m.data) as RunEvent);
  assert.ok(events.length >= 1);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.ok(events.every((e) => e.type === "progress"));
});

Deno.test("a client that disconnects mid-run: its stream is freed, the run finishes and is saved", async () => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "60" });
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that the launch is on May 3");
  const runId = res.headers.get("x-run-id")!;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert.match(first.value ?? "", /^id: 1\n/);
  await reader.cancel();

  // Wait for the run's end in-process (no polling), then look through the API.
  const { feed, release } = await server.lantern.runs.open(project.id, runId);
  let terminal: RunEvent | undefined;
  try {
    for await (const event of followEvents(feed, 0)) terminal = event;
  } finally {
    release();
  }
  assert.equal(terminal?.type, "result");
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.content]), [
    ["user", "Remember that the launch is on May 3"],
    ["assistant", "Got it. I'll remember: **The launch is on May 3**"],
  ]);
  const memories = await call<{ text: string }[]>(`${server.url}/api/projects/${project.id}/memories`);
  assert.deepEqual(memories.body.map((m) => m.text), ["The launch is on May 3"]);
  const run = await call<{ status: string }>(`${server.url}/api/projects/${project.id}/runs/${runId}`);
  assert.equal(run.body.status, "succeeded");
  // The disconnected stream holds nothing any more.
  assert.equal(server.lantern.runs.stats().streams, 0);
  assert.equal(server.lantern.runs.stats().streamTimers, 0);
});

Deno.test("CORS: a listed origin gets the headers and preflight answers; another origin gets none", async () => {
  await using server = await startServer({ LANTERN_CORS_ORIGINS: "https://a.example" });
  const project = await createProject(server.url);

  const allowed = await fetch(`${server.url}/api/projects`, { headers: { origin: "https://a.example" } });
  await allowed.body?.cancel();
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get("access-control-allow-origin"), "https://a.example");

  const preflight = await fetch(`${server.url}/api/projects/${project.id}/chat-stream`, {
    method: "OPTIONS",
    headers: {
      origin: "https://a.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  await preflight.body?.cancel();
  assert.ok(preflight.status === 204 || preflight.status === 200, `preflight answered ${preflight.status}`);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "https://a.example");
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /\bPOST\b/);
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /content-type/i);

  // The stream itself carries the CORS header along with the SSE headers.
  const stream = await fetch(`${server.url}/api/projects/${project.id}/chat-stream`, {
    method: "POST",
    headers: { origin: "https://a.example", "content-type": "application/json" },
    body: JSON.stringify({ message: "hi" }),
  });
  assert.equal(stream.headers.get("access-control-allow-origin"), "https://a.example");
  assert.equal(stream.headers.get("content-type"), "text/event-stream; charset=utf-8");
  await stream.text();

  const other = await fetch(`${server.url}/api/projects`, { headers: { origin: "https://b.example" } });
  await other.body?.cancel();
  assert.equal(other.status, 200);
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const otherPreflight = await fetch(`${server.url}/api/projects`, {
    method: "OPTIONS",
    headers: { origin: "https://b.example", "access-control-request-method": "POST" },
  });
  await otherPreflight.body?.cancel();
  assert.equal(otherPreflight.headers.get("access-control-allow-origin"), null);
});

// CORS off by default and with `*`: security_csrf_test.ts.

/** Sends one HTTP/1.1 request over a raw socket and returns the response's head and body bytes. */
async function rawHttp(url: string, request: string): Promise<{ head: string; body: Uint8Array }> {
  const { hostname, port } = new URL(url);
  using conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(16 * 1024);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  const all = new Uint8Array(chunks.reduce((size, c) => size + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const text = new TextDecoder().decode(all);
  const split = text.indexOf("\r\n\r\n");
  const headBytes = new TextEncoder().encode(text.slice(0, split + 4)).length;
  return { head: text.slice(0, split), body: all.slice(headBytes) };
}

Deno.test("on the wire the stream is not compressed, even for a client that asks for gzip and br", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const body = JSON.stringify({ message: "Remember that tea is at 4" });
  const { head, body: bytes } = await rawHttp(
    server.url,
    `POST /api/projects/${project.id}/chat-stream HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Content-Type: application/json\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n` +
      `Content-Length: ${new TextEncoder().encode(body).length}\r\n\r\n${body}`,
  );
  const lines = head.split("\r\n");
  assert.match(lines[0]!, /^HTTP\/1\.1 200 /);
  const headers = new Map(
    lines.slice(1).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    }),
  );
  assert.equal(headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(headers.get("cache-control"), "no-cache, no-transform");
  assert.equal(headers.get("x-accel-buffering"), "no");
  assert.equal(headers.has("content-encoding"), false);
  // The body is plain text frames (chunked), readable without decompressing.
  const text = new TextDecoder().decode(bytes);
  assert.match(text, /id: 1\ndata: \{"type":"progress"/);
  assert.match(text, /"type":"result"/);
});

Deno.test("over HTTP, every intent streams the eight steps in order, its tokens, then its result", async () => {
  await using server = await startServer({ LANTERN_RATE_RUNS_PER_MIN: "0" });
  const project = await createProject(server.url);
  const cases: [string, string[], RegExp][] = [
    ["Hello!", [], /^Hello! I'm Lantern's local assistant/],
    [
      "Please remember: the launch is on May 3.",
      ["save_memory"],
      /^Got it\. I'll remember: \*\*The launch is on May 3\*\*$/,
    ],
    ["Note that Ana leads design", ["save_memory"], /^Got it\. I'll remember: \*\*Ana leads design\*\*$/],
    [
      "What's the launch date?",
      ["search_memories"],
      /^From what you told me: \*\*The launch is on May 3\*\*$/,
    ],
    ["Who leads design?", ["search_memories"], /^From what you told me: \*\*Ana leads design\*\*$/],
    ["What do you know about the launch?", ["search_memories"], /The launch is on May 3/],
    ["What do you remember?", ["list_memories"], /^Here is what I remember \(2 memories\):/],
    [
      "Summarize the project",
      ["summarize_project"],
      /^## Test project\n\n\*\*What I remember\*\* \(2 memories\)/,
    ],
    ["Forget that Ana leads design", ["delete_memory"], /^Done\. I forgot this:\n\n- Ana leads design$/],
    ["Write me a poem", [], /^I can't do that/],
  ];
  for (const [message, tools, answer] of cases) {
    const events: RunEvent[] = [];
    for await (const m of readEvents(await chatStream(server.url, project.id, message))) {
      events.push(JSON.parse(m.data) as RunEvent);
    }
    const marks = events.flatMap((e) =>
      e.type === "progress" && e.progress.phase !== "update" ? [`${e.progress.step}:${e.progress.phase}`] : []
    );
    assert.deepEqual(marks, STEPS.flatMap((s) => [`${s}:start`, `${s}:end`]), message);
    const last = events.at(-1)!;
    assert.ok(last.type === "result", `${message}: ${JSON.stringify(last)}`);
    assert.deepEqual(last.result.plan.map((a) => a.tool), tools, message);
    assert.match(last.result.message, answer, message);
    assert.equal(events.flatMap((e) => e.type === "token" ? [e.delta] : []).join(""), last.result.message);
    const actions = events.flatMap((e) => e.type === "action" ? [e.action.tool] : []);
    assert.deepEqual(actions, tools, message);
  }
  const memories = await call<{ text: string }[]>(`${server.url}/api/projects/${project.id}/memories`);
  assert.deepEqual(memories.body.map((m) => m.text), ["The launch is on May 3"]);
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.equal(messages.body.length, cases.length * 2);
});
