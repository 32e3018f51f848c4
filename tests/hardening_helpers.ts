/**
 * Helpers of the hardening tests: HTTP/1.1 spoken byte by byte over a raw
 * socket (to send a chosen `Host`, a stalled body, a partial head) and the
 * answer parsed, with whether the server closed the connection.
 *
 * @module
 */

/** What came back on a raw connection. */
export interface RawAnswer {
  /** 0 when no status line arrived. */
  status: number;
  headers: Headers;
  body: string;
  /** Whether the server closed (or reset) the connection before the wait ended. */
  closed: boolean;
}

/** Options of {@linkcode rawExchange}. */
export interface RawOptions {
  /** How long to wait for the answer and the close (ms). Default 5,000. */
  waitMs?: number;
  /** Stop waiting once a whole answer has arrived, without waiting for a close. */
  untilAnswer?: boolean;
}

/**
 * Sends `head` (and then `body`, if any) on a new connection to `port` and
 * reads until the server closes, or `waitMs` passes.
 */
export async function rawExchange(
  port: number,
  head: string,
  body: Uint8Array | string = "",
  options: RawOptions = {},
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  let text = "";
  let closed = false;
  try {
    await conn.write(encoder.encode(head));
    if (body.length > 0) await conn.write(typeof body === "string" ? encoder.encode(body) : body);
  } catch {
    closed = true;
  }
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  const deadline = Date.now() + (options.waitMs ?? 5_000);
  while (!closed) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"wait">((resolve) => timer = setTimeout(() => resolve("wait"), left)),
    ]);
    clearTimeout(timer);
    if (read === "wait") break;
    if (read === null) {
      closed = true;
      break;
    }
    text += decoder.decode(buffer.subarray(0, read), { stream: true });
    if (options.untilAnswer && complete(text)) break;
  }
  try {
    conn.close();
  } catch { /* already closed */ }
  return parse(text, closed);
}

function complete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  if (length) return text.length - end - 4 >= Number(length[1]);
  return /\r\n0\r\n\r\n$/.test(text);
}

function parse(text: string, closed: boolean): RawAnswer {
  const end = text.indexOf("\r\n\r\n");
  const top = end === -1 ? text : text.slice(0, end);
  let body = end === -1 ? "" : text.slice(end + 4);
  const [statusLine = "", ...lines] = top.split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  if (headers.get("transfer-encoding") === "chunked") {
    let out = "";
    let rest = body;
    while (true) {
      const lineEnd = rest.indexOf("\r\n");
      if (lineEnd === -1) break;
      const size = parseInt(rest.slice(0, lineEnd), 16);
      if (!(size > 0)) break;
      out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(statusLine.split(" ")[1] ?? 0), headers, body, closed };
}

/** A GET with a chosen `Host` (and more headers), as a raw request head. */
export function head(method: string, path: string, host: string, extra: Record<string, string> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of Object.entries(extra)) lines.push(`${name}: ${value}`);
  return lines.join("\r\n") + "\r\n\r\n";
}
