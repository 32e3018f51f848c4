/**
 * A Server-Sent Events encoder, in the role @std/http's
 * `ServerSentEventStream` plays: messages in, UTF-8 bytes out.
 *
 * @module
 */

/** One message of an event stream. Every field is optional. */
export interface ServerSentEventMessage {
  /** Comment lines (`: …`), ignored by clients; used as keep-alives. */
  comment?: string;
  /** The event type; clients default to `message`. */
  event?: string;
  /** The data; split into one `data:` line per line of text. */
  data?: string;
  /** The event id, sent back by EventSource as `Last-Event-ID`. */
  id?: string | number;
  /** The reconnection delay hint, in ms. */
  retry?: number;
}

const NEWLINE = /\r\n|\r|\n/;

function assertSingleLine(name: string, value: string): void {
  if (NEWLINE.test(value)) {
    throw new RangeError(`SSE ${name} cannot contain a newline, got ${JSON.stringify(value)}.`);
  }
}

/**
 * Encodes one message as event-stream text, ending with the blank line that
 * dispatches it. Data and comments are split on every kind of newline, so no
 * value can start a field or an event of its own.
 *
 * @example
 * ```ts
 * import { encodeServerSentEvent } from "./sse.ts";
 * console.log(encodeServerSentEvent({ id: 1, data: "a\nb" })); // "id: 1\ndata: a\ndata: b\n\n"
 * ```
 */
export function encodeServerSentEvent(message: ServerSentEventMessage): string {
  let out = "";
  if (message.comment !== undefined) {
    for (const line of message.comment.split(NEWLINE)) out += `: ${line}\n`;
  }
  if (message.event !== undefined) {
    assertSingleLine("event", message.event);
    out += `event: ${message.event}\n`;
  }
  if (typeof message.id === "number" && Number.isFinite(message.id)) {
    // A finite number's text has no newline or NUL: nothing to check (the hot path, one per event).
    out += `id: ${message.id}\n`;
  } else if (message.id !== undefined) {
    const id = String(message.id);
    assertSingleLine("id", id);
    if (id.includes("\0")) throw new RangeError(`SSE id cannot contain NUL, got ${JSON.stringify(id)}.`);
    out += `id: ${id}\n`;
  }
  if (message.retry !== undefined) {
    if (!Number.isInteger(message.retry) || message.retry < 0) {
      throw new RangeError(`SSE retry must be a whole number of ms, got ${message.retry}.`);
    }
    out += `retry: ${message.retry}\n`;
  }
  const data = message.data;
  if (data !== undefined) {
    // JSON text (every event) has no raw newline: one line, without a regex split.
    if (!data.includes("\n") && !data.includes("\r")) out += `data: ${data}\n`;
    else for (const line of data.split(NEWLINE)) out += `data: ${line}\n`;
  }
  return out + "\n";
}

/**
 * A `TransformStream` from {@linkcode ServerSentEventMessage}s to the bytes of
 * an event stream.
 *
 * @example
 * ```ts
 * import { ServerSentEventStream } from "./sse.ts";
 * const body = ReadableStream.from([{ data: "hello" }]).pipeThrough(new ServerSentEventStream());
 * console.log(await new Response(body).text()); // "data: hello\n\n"
 * ```
 */
export class ServerSentEventStream extends TransformStream<ServerSentEventMessage, Uint8Array> {
  /** A new encoder stream. */
  constructor() {
    const encoder = new TextEncoder();
    super({
      transform(message, controller) {
        controller.enqueue(encoder.encode(encodeServerSentEvent(message)));
      },
    });
  }
}

const frameEncoder = new TextEncoder();

/** The keep-alive comment frame, sent after a heartbeat of silence. */
export const KEEP_ALIVE_FRAME: Uint8Array<ArrayBuffer> = frameEncoder.encode(
  encodeServerSentEvent({ comment: "keep-alive" }),
);

/** The last frame of a stream ended by a shutdown: the client reconnects and resumes. */
export const SHUTDOWN_FRAME: Uint8Array<ArrayBuffer> = frameEncoder.encode(
  encodeServerSentEvent({ comment: "server shutting down; reconnect to continue" }),
);

/** The headers of every event-stream response. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
});
