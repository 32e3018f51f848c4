/**
 * The SSE encoder (lib/sse.ts), checked byte for byte and parsed back with
 * an independent parser (npm eventsource-parser).
 */

import assert from "node:assert/strict";
import { type EventSourceMessage, EventSourceParserStream } from "eventsource-parser/stream";
import {
  encodeServerSentEvent,
  type ServerSentEventMessage,
  ServerSentEventStream,
  SSE_HEADERS,
} from "../lib/sse.ts";

/** What a client sees of a byte stream: events, comments and retry hints. */
interface Parsed {
  events: EventSourceMessage[];
  comments: string[];
  retries: number[];
}

/** Parses bytes with eventsource-parser, handing them over in chunks of `chunk` bytes. */
async function parse(bytes: Uint8Array<ArrayBuffer>, chunk = bytes.length || 1): Promise<Parsed> {
  const comments: string[] = [];
  const retries: number[] = [];
  const pieces: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.slice(i, i + chunk));
  const stream = ReadableStream.from<BufferSource>(pieces)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(
      new EventSourceParserStream({
        onComment: (c) => comments.push(c),
        onRetry: (r) => retries.push(r),
      }),
    );
  const events = await Array.fromAsync(stream);
  return { events, comments, retries };
}

/** Encodes messages through the TransformStream form and returns the bytes. */
async function encodeAll(messages: ServerSentEventMessage[]): Promise<Uint8Array<ArrayBuffer>> {
  const body = ReadableStream.from(messages).pipeThrough(new ServerSentEventStream());
  return new Uint8Array(await new Response(body).arrayBuffer());
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("an event is id, then one data line per line, then a blank line", () => {
  assert.equal(encodeServerSentEvent({ id: 1, data: '{"a":1}' }), 'id: 1\ndata: {"a":1}\n\n');
  assert.equal(encodeServerSentEvent({ data: "hello" }), "data: hello\n\n");
  assert.equal(encodeServerSentEvent({ data: "" }), "data: \n\n");
  assert.equal(
    encodeServerSentEvent({ comment: "c", event: "update", id: "7", retry: 1000, data: "x" }),
    ": c\nevent: update\nid: 7\nretry: 1000\ndata: x\n\n",
  );
});

Deno.test("every kind of newline in data starts a new data line, so no value can inject a field", () => {
  assert.equal(encodeServerSentEvent({ data: "a\nb" }), "data: a\ndata: b\n\n");
  assert.equal(encodeServerSentEvent({ data: "a\r\nb" }), "data: a\ndata: b\n\n");
  assert.equal(encodeServerSentEvent({ data: "a\rb" }), "data: a\ndata: b\n\n");
  assert.equal(encodeServerSentEvent({ data: "a\n\nb\n" }), "data: a\ndata: \ndata: b\ndata: \n\n");
  assert.equal(
    encodeServerSentEvent({ data: "ok\n\nid: 666\nevent: evil\ndata: injected" }),
    "data: ok\ndata: \ndata: id: 666\ndata: event: evil\ndata: data: injected\n\n",
  );
});

Deno.test("data with newlines parses back as one event with the same text", async () => {
  const bytes = await encodeAll([
    { id: 1, data: "line one\nline two" },
    { id: 2, data: "crlf\r\nand\rcr" },
    { id: 3, data: "\nleading and trailing\n" },
    { id: 4, data: "ok\n\nid: 666\nevent: evil\ndata: injected" },
  ]);
  const { events } = await parse(bytes);
  assert.deepEqual(events.map((e) => [e.id, e.event, e.data]), [
    ["1", undefined, "line one\nline two"],
    // The wire knows one newline; \r\n and \r arrive as \n.
    ["2", undefined, "crlf\nand\ncr"],
    ["3", undefined, "\nleading and trailing\n"],
    ["4", undefined, "ok\n\nid: 666\nevent: evil\ndata: injected"],
  ]);
});

Deno.test("unicode survives: emoji, CJK, combining marks, U+2028 and U+2029, whatever the chunking", async () => {
  const samples = [
    "Lantern 🏮 glows 👩🏽‍💻",
    "発売日は5月3日です。",
    "한국어 텍스트",
    "e\u0301 cafe\u0301",
    "line\u2028separator\u2029paragraph",
    "\u0085 next line is not an SSE newline",
    '{"json":"\\n escaped stays escaped"}',
  ];
  const bytes = await encodeAll(samples.map((data, i) => ({ id: i + 1, data })));
  // U+2028/U+2029/U+0085 are data, not line breaks: one data line each.
  assert.equal(text(bytes).split("\n").filter((l) => l.startsWith("data: ")).length, samples.length);
  for (const chunk of [1, 2, 3, 7, bytes.length]) {
    const { events } = await parse(bytes, chunk);
    assert.deepEqual(events.map((e) => e.data), samples, `chunks of ${chunk} bytes`);
    assert.deepEqual(events.map((e) => e.id), samples.map((_, i) => String(i + 1)));
  }
});

Deno.test("comments (multi-line too) reach a client as comments, never as events", async () => {
  assert.equal(encodeServerSentEvent({ comment: "keep-alive" }), ": keep-alive\n\n");
  assert.equal(encodeServerSentEvent({ comment: "one\ntwo\r\nthree" }), ": one\n: two\n: three\n\n");
  assert.equal(encodeServerSentEvent({ comment: "" }), ": \n\n");
  const bytes = await encodeAll([
    { comment: "keep-alive" },
    { comment: "first\nsecond" },
    { comment: "note", data: "with data" },
    { comment: "data: not an event\nid: 9" },
  ]);
  const { events, comments } = await parse(bytes);
  assert.deepEqual(events.map((e) => [e.id, e.data]), [[undefined, "with data"]]);
  assert.deepEqual(comments.map((c) => c.trim()), [
    "keep-alive",
    "first",
    "second",
    "note",
    "data: not an event",
    "id: 9",
  ]);
});

Deno.test("ids, event names and retry hints reach a client", async () => {
  const bytes = await encodeAll([
    { retry: 1500 },
    { id: 41, data: "a" },
    { id: "r-42", event: "custom", data: "b" },
    { id: 0, data: "c" },
  ]);
  assert.ok(text(bytes).startsWith("retry: 1500\n\n"));
  const { events, retries } = await parse(bytes);
  assert.deepEqual(retries, [1500]);
  assert.deepEqual(events.map((e) => [e.id, e.event, e.data]), [
    ["41", undefined, "a"],
    ["r-42", "custom", "b"],
    ["0", undefined, "c"],
  ]);
});

Deno.test("an id or event with a newline, an id with NUL, and a bad retry are refused", () => {
  for (const bad of ["a\nb", "a\rb", "a\r\nb", "\n"]) {
    assert.throws(() => encodeServerSentEvent({ id: bad, data: "x" }), RangeError, JSON.stringify(bad));
    assert.throws(() => encodeServerSentEvent({ event: bad, data: "x" }), RangeError, JSON.stringify(bad));
  }
  assert.throws(
    () => encodeServerSentEvent({ id: "a\nb" }),
    { name: "RangeError", message: 'SSE id cannot contain a newline, got "a\\nb".' },
  );
  assert.throws(
    () => encodeServerSentEvent({ event: "x\ny" }),
    { name: "RangeError", message: 'SSE event cannot contain a newline, got "x\\ny".' },
  );
  assert.throws(() => encodeServerSentEvent({ id: "a\0b" }), /SSE id cannot contain NUL/);
  for (const retry of [-1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => encodeServerSentEvent({ retry }), /SSE retry must be a whole number of ms/);
  }
});

Deno.test("the TransformStream errors on a bad message instead of writing a broken stream", async () => {
  const body = ReadableStream.from<ServerSentEventMessage>([{ data: "ok" }, { id: "x\ny", data: "bad" }])
    .pipeThrough(new ServerSentEventStream());
  await assert.rejects(new Response(body).arrayBuffer(), RangeError);
});

Deno.test("the TransformStream writes each message as soon as it gets it", async () => {
  const stream = new ServerSentEventStream();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const decoder = new TextDecoder();
  void writer.write({ id: 1, data: "first" });
  assert.equal(decoder.decode((await reader.read()).value), "id: 1\ndata: first\n\n");
  void writer.write({ id: 2, data: "second" });
  assert.equal(decoder.decode((await reader.read()).value), "id: 2\ndata: second\n\n");
  await writer.close();
  assert.equal((await reader.read()).done, true);
});

// Any text as data parsing back the same is a property test in sse_property_test.ts.

Deno.test("the event-stream headers are the three the protocol names", () => {
  assert.deepEqual({ ...SSE_HEADERS }, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  });
  assert.ok(Object.isFrozen(SSE_HEADERS));
});
