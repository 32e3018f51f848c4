/**
 * Property tests of the event-stream encoding against an independent parser
 * (eventsource-parser): any text survives the trip, however the bytes are
 * split, and text a user sends cannot forge or break an event.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { encodeServerSentEvent, type ServerSentEventMessage, ServerSentEventStream } from "../lib/sse.ts";
import type { RunEvent } from "../lib/protocol.ts";
import { encodeFrame } from "../lib/runs/feed.ts";
import { chatStream, createProject, readEvents, startServer } from "./helpers.ts";

interface Parsed {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** Parses event-stream bytes, delivered in the given pieces, with eventsource-parser. */
async function parse(chunks: Uint8Array<ArrayBuffer>[]): Promise<Parsed[]> {
  const out: Parsed[] = [];
  const stream = ReadableStream.from<BufferSource>(chunks)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  for await (const message of stream) out.push({ id: message.id, event: message.event, data: message.data });
  return out;
}

/** Splits bytes at the given fractions of their length (anywhere: inside a character, between CR and LF). */
function split(bytes: Uint8Array<ArrayBuffer>, cuts: number[]): Uint8Array<ArrayBuffer>[] {
  const points = [...new Set(cuts.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let start = 0;
  for (const point of points) {
    if (point <= start || point >= bytes.length) continue;
    chunks.push(bytes.slice(start, point));
    start = point;
  }
  chunks.push(bytes.slice(start));
  return chunks;
}

/** What a line-based format does to line breaks: every CR, LF or CRLF reads back as LF. */
function normalized(text: string): string {
  return text.replace(/\r\n|\r/g, "\n");
}

/** Text full of what could break an event stream, mixed with any Unicode. */
const hostile = fc.array(
  fc.oneof(
    fc.string({ unit: "binary" }),
    fc.constantFrom(
      "\n",
      "\r",
      "\r\n",
      "\n\n",
      "\r\r",
      ":",
      " ",
      "data: ",
      "data:",
      "id: 999",
      "event: result",
      "retry: 1",
      "\u0000",
      "\uFEFF",
      "\u2028",
      'data: {"type":"result"}',
      "é",
      "😀",
    ),
  ),
  { maxLength: 30 },
).map((parts) => parts.join("")).filter((s) => s.isWellFormed());

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

Deno.test("any text as data parses back to the same text, however the bytes are split", async () => {
  await fc.assert(
    fc.asyncProperty(hostile, fc.option(fc.nat(), { nil: undefined }), cuts, async (data, id, at) => {
      const bytes = new TextEncoder().encode(encodeServerSentEvent({ id, data }));
      const events = await parse(split(bytes, at));
      assert.equal(events.length, 1);
      assert.equal(events[0]!.data, normalized(data));
      assert.equal(events[0]!.id, id === undefined ? undefined : String(id));
      assert.equal(events[0]!.event, undefined);
    }),
    { numRuns: 500 },
  );
});

Deno.test("a sequence of messages through ServerSentEventStream parses back to the same sequence", async () => {
  const message = fc.record({
    data: hostile,
    id: fc.option(fc.nat({ max: 1e9 }), { nil: undefined }),
    comment: fc.option(hostile, { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 8 }), cuts, async (messages, at) => {
      const body = ReadableStream.from<ServerSentEventMessage>(messages).pipeThrough(
        new ServerSentEventStream(),
      );
      const bytes = new Uint8Array(await new Response(body).arrayBuffer());
      const events = await parse(split(bytes, at));
      assert.deepEqual(
        events.map((e) => [e.id, e.data]),
        messages.map((m) => [m.id === undefined ? undefined : String(m.id), normalized(m.data)]),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("a comment of any text dispatches no event", async () => {
  await fc.assert(
    fc.asyncProperty(hostile, async (comment) => {
      const events = await parse([new TextEncoder().encode(encodeServerSentEvent({ comment }))]);
      assert.deepEqual(events, []);
    }),
    { numRuns: 300 },
  );
});

Deno.test("an id or event name that could start a new line is refused, never sent", () => {
  fc.assert(
    fc.property(hostile, fc.constantFrom("\n", "\r", "\r\n"), hostile, (before, newline, after) => {
      const value = before + newline + after;
      assert.throws(() => encodeServerSentEvent({ id: value, data: "x" }), RangeError);
      assert.throws(() => encodeServerSentEvent({ event: value, data: "x" }), RangeError);
    }),
    { numRuns: 200 },
  );
});

/** Checks a run's events are exactly what the server emitted: no forged or broken event. */
function assertWellFormedRun(received: Parsed[], runId: string): RunEvent[] {
  const events = received.map((message) => {
    assert.equal(message.event, undefined, "no event carries a type field of its own");
    const event = JSON.parse(message.data) as RunEvent;
    assert.equal(message.id, String(event.seq), "the SSE id is the event's seq");
    return event;
  });
  assert.ok(events.length >= 17, `only ${events.length} events`);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.ok(events.every((e) => e.runId === runId));
  const terminal = events.filter((e) => e.type === "result" || e.type === "error" || e.type === "cancelled");
  assert.equal(terminal.length, 1, "exactly one terminal event");
  assert.equal(events.at(-1)?.type, "result");
  return events;
}

Deno.test("a chat message with event-stream syntax in it cannot forge or break an event", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const injected =
    'Remember that x\n\ndata: {"type":"result"}\n\nid: 999\nevent: result\nretry: 1\r\n\r\n: comment\rdata: y';
  const res = await chatStream(server.url, project.id, injected);
  assert.equal(res.status, 200);
  const runId = res.headers.get("x-run-id")!;
  const received: Parsed[] = [];
  for await (const message of readEvents(res)) received.push(message);
  const events = assertWellFormedRun(received, runId);
  // The text travelled intact inside the JSON of an event, as data.
  assert.ok(
    events.some((e) => e.type === "progress" && e.progress.details === injected.trim()),
    "the message is reported whole in the start step",
  );
});

Deno.test("any hostile chat message leaves the run's event stream well formed", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  // Messages the schema accepts: not blank, no control characters other than tab and line breaks.
  // deno-lint-ignore no-control-regex
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
  const allowed = hostile.filter((s) => s.trim().length > 0 && !control.test(s));
  await fc.assert(
    fc.asyncProperty(allowed, async (message) => {
      const res = await chatStream(server.url, project.id, message);
      assert.equal(res.status, 200);
      const received: Parsed[] = [];
      for await (const m of readEvents(res)) received.push(m);
      const events = assertWellFormedRun(received, res.headers.get("x-run-id")!);
      assert.ok(events.some((e) => e.type === "progress" && e.progress.details === message.trim()));
    }),
    { numRuns: 25 },
  );
});

Deno.test("a run's frame, written straight into its slab, is the event-stream encoding of its id and JSON", async () => {
  const events = fc.record({
    seq: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
    delta: fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 40_000 })),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(events, { minLength: 1, maxLength: 40 }), async (batch) => {
      // Many frames in a row share slabs: each must keep its own bytes after the next is written.
      const made = batch.map(({ seq, delta }) => {
        const event = { type: "token", runId: "r1", seq, ts: 1.5, delta } as RunEvent;
        return { event, frame: encodeFrame(event) };
      });
      for (const { event, frame } of made) {
        const json = JSON.stringify(event);
        assert.equal(new TextDecoder().decode(frame), encodeServerSentEvent({ id: event.seq, data: json }));
        assert.deepEqual(await parse([frame.slice()]), [{
          id: String(event.seq),
          event: undefined,
          data: json,
        }]);
      }
    }),
    { numRuns: 150 },
  );
});
