/**
 * A light HTTP/1.1 client for Server-Sent Events over a raw loopback TCP
 * socket (`Deno.connect`): one socket per stream, one read buffer per socket,
 * chunked transfer decoding and SSE framing done incrementally by hand, no
 * `fetch` and no parser library. Keep-alive: a connection can carry several
 * requests one after another.
 *
 * @example Follow one stream
 * ```ts
 * import { HttpConnection, SseParser } from "./sse_client.ts";
 * const conn = await HttpConnection.open("127.0.0.1", 8000);
 * const parser = new SseParser((_id, data) => console.log(JSON.parse(data).type));
 * await conn.request("POST", "/api/projects/p1/chat-stream", '{"message":"hi"}', {
 *   text: (s, at) => parser.feed(s, at),
 * });
 * conn.close();
 * ```
 *
 * @module
 */

import { nowMs } from "./stats.ts";

/** Status line and headers of a response (header names lower-cased). */
export interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

/** Receives one response's parts as they arrive; `at` is the receipt time (epoch ms). */
export interface ResponseSink {
  /** Called right before the request's bytes are written. */
  sent?(at: number): void;
  /** Called once the status line and headers are in. */
  head?(head: ResponseHead, at: number): void;
  /** Decoded body text (chunked framing removed). */
  text?(text: string, at: number): void;
  /** Raw bytes read from the socket for this response, headers included. */
  bytes?(count: number, at: number): void;
}

/** How a request ended: the response was complete, or the socket closed first. */
export type RequestOutcome = "complete" | "closed";

const CR = 13;
const LF = 10;
const encoder = new TextEncoder();
const latin1 = new TextDecoder("windows-1252");

const enum Body {
  Head,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  Length,
  UntilClose,
  Done,
}

/** One keep-alive HTTP/1.1 connection over a raw TCP socket. */
export class HttpConnection {
  readonly host: string;
  readonly port: number;
  /** Bytes read over the connection's life. */
  bytesRead = 0;
  #conn: Deno.TcpConn;
  #buf: Uint8Array;
  #closed = false;

  private constructor(conn: Deno.TcpConn, host: string, port: number, bufferSize: number) {
    this.#conn = conn;
    this.host = host;
    this.port = port;
    this.#buf = new Uint8Array(bufferSize);
  }

  /** Connects (TCP_NODELAY on); `bufferSize` is the per-socket read buffer. */
  static async open(host: string, port: number, bufferSize = 16 * 1024): Promise<HttpConnection> {
    const conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
    conn.setNoDelay(true);
    return new HttpConnection(conn, host, port, bufferSize);
  }

  /** Whether the socket was closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the socket; a pending `request` then resolves with `"closed"`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * Sends one request and reads its whole response, handing parts to `sink`.
   * Resolves when the response ends (chunked terminator, Content-Length
   * reached) or the socket closes. Pipelining is not supported.
   */
  async request(
    method: string,
    path: string,
    body: string | undefined,
    sink: ResponseSink,
  ): Promise<RequestOutcome> {
    const payload = body === undefined ? undefined : encoder.encode(body);
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n` +
      `Accept: text/event-stream\r\nConnection: keep-alive\r\n`;
    if (payload) head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`;
    head += "\r\n";
    const headBytes = encoder.encode(head);
    const message = new Uint8Array(headBytes.length + (payload?.length ?? 0));
    message.set(headBytes);
    if (payload) message.set(payload, headBytes.length);

    sink.sent?.(nowMs());
    try {
      let written = 0;
      while (written < message.length) {
        written += await this.#conn.write(message.subarray(written));
      }
    } catch {
      this.close();
      return "closed";
    }

    const decoder = new TextDecoder("utf-8");
    let state = Body.Head;
    let headBuf = "";
    let remaining = 0;
    let sizeLine = "";
    let lenientEnd = false;
    const buf = this.#buf;

    while (state !== Body.Done) {
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        this.close();
        if (state === Body.UntilClose) {
          const tail = decoder.decode();
          if (tail) sink.text?.(tail, nowMs());
          return "complete";
        }
        return "closed";
      }
      const at = nowMs();
      this.bytesRead += n;
      sink.bytes?.(n, at);
      let i = 0;
      while (i < n && state !== Body.Done) {
        switch (state) {
          case Body.Head: {
            // windows-1252 decodes one char per byte, so string offsets are byte offsets.
            const combined = headBuf + latin1.decode(buf.subarray(i, n));
            let sep = 4;
            let idx = combined.indexOf("\r\n\r\n");
            if (idx < 0) {
              sep = 2;
              idx = combined.indexOf("\n\n");
            }
            if (idx < 0) {
              headBuf = combined;
              i = n;
              break;
            }
            i += idx + sep - headBuf.length;
            headBuf = "";
            const parsed = parseHead(combined.slice(0, idx));
            sink.head?.(parsed, at);
            const te = parsed.headers.get("transfer-encoding") ?? "";
            const cl = parsed.headers.get("content-length");
            if (te.toLowerCase().includes("chunked")) {
              state = Body.ChunkSize;
            } else if (cl !== undefined) {
              remaining = Number(cl);
              state = remaining > 0 ? Body.Length : Body.Done;
            } else if (parsed.status === 204 || parsed.status === 304) {
              state = Body.Done;
            } else {
              state = Body.UntilClose;
            }
            break;
          }
          case Body.ChunkSize: {
            for (; i < n; i++) {
              const c = buf[i]!;
              if (c === LF) {
                i++;
                const size = Number.parseInt(sizeLine.split(";")[0]!.trim(), 16);
                sizeLine = "";
                if (!Number.isFinite(size) || size === 0) {
                  state = Body.Trailer;
                  lenientEnd = false;
                } else {
                  remaining = size;
                  state = Body.ChunkData;
                }
                break;
              }
              if (c !== CR) sizeLine += String.fromCharCode(c);
            }
            break;
          }
          case Body.ChunkData:
          case Body.Length: {
            const take = Math.min(remaining, n - i);
            const text = decoder.decode(buf.subarray(i, i + take), { stream: true });
            if (text) sink.text?.(text, at);
            i += take;
            remaining -= take;
            if (remaining === 0) {
              if (state === Body.Length) {
                state = Body.Done;
              } else {
                state = Body.ChunkDataEnd;
                remaining = 2;
              }
            }
            break;
          }
          case Body.ChunkDataEnd: {
            // Skip the CRLF after a chunk's data.
            while (i < n && remaining > 0) {
              if (buf[i] === LF) remaining = 0;
              i++;
            }
            if (remaining === 0) state = Body.ChunkSize;
            break;
          }
          case Body.Trailer: {
            // After the last chunk: optional trailers, then an empty line.
            for (; i < n; i++) {
              const c = buf[i]!;
              if (c === LF) {
                if (!lenientEnd) {
                  state = Body.Done;
                  i++;
                  break;
                }
                lenientEnd = false;
              } else if (c !== CR) {
                lenientEnd = true;
              }
            }
            break;
          }
          case Body.UntilClose: {
            const text = decoder.decode(buf.subarray(i, n), { stream: true });
            if (text) sink.text?.(text, at);
            i = n;
            break;
          }
        }
      }
    }
    const tail = decoder.decode();
    if (tail) sink.text?.(tail, nowMs());
    return "complete";
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split(/\r?\n/);
  const status = Number(lines[0]?.split(" ")[1] ?? 0);
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

/** Called for each complete SSE event: its `id` (or null) and joined `data`. */
export type SseEventHandler = (id: string | null, data: string, at: number) => void;

/**
 * Incremental SSE framing: feed it text as it arrives, it calls back once per
 * complete event (blank-line terminated) and once per comment line.
 */
export class SseParser {
  #pending = "";
  #onEvent: SseEventHandler;
  #onComment: ((at: number) => void) | undefined;

  /** Makes a parser that reports events to `onEvent` and comments to `onComment`. */
  constructor(onEvent: SseEventHandler, onComment?: (at: number) => void) {
    this.#onEvent = onEvent;
    this.#onComment = onComment;
  }

  /** Feeds decoded text; `at` is when it was received. */
  feed(text: string, at: number): void {
    let buffer = this.#pending ? this.#pending + text : text;
    if (buffer.includes("\r")) buffer = buffer.replace(/\r\n?/g, "\n");
    let start = 0;
    for (;;) {
      const end = buffer.indexOf("\n\n", start);
      if (end < 0) break;
      this.#block(buffer.slice(start, end), at);
      start = end + 2;
    }
    this.#pending = start === 0 ? buffer : buffer.slice(start);
  }

  #block(block: string, at: number): void {
    let id: string | null = null;
    let data: string | null = null;
    let lineStart = 0;
    while (lineStart <= block.length) {
      let lineEnd = block.indexOf("\n", lineStart);
      if (lineEnd < 0) lineEnd = block.length;
      const line = block.slice(lineStart, lineEnd);
      lineStart = lineEnd + 1;
      if (line.length === 0) continue;
      if (line.charCodeAt(0) === 58 /* : */) {
        this.#onComment?.(at);
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === "data") data = data === null ? value : `${data}\n${value}`;
      else if (field === "id") id = value;
    }
    if (data !== null) this.#onEvent(id, data, at);
  }
}
