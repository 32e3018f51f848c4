/**
 * A corpus of bad requests against a live server with a token set: every one
 * gets a clear 4xx in the JSON error shape, no 500, nothing that looks like a
 * stack trace or a file path, and the server keeps serving after each.
 */

import assert from "node:assert/strict";
import { Authenticator, SESSION_COOKIE } from "../lib/http/auth.ts";
import { newId } from "../lib/ids.ts";
import type { ErrorBody, Project, RunStarted } from "../lib/protocol.ts";
import { startServer, type TestServer } from "./helpers.ts";

const TOKEN = "attack-corpus-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

interface Attempt {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit;
}

async function send(url: string, request: Attempt): Promise<Answer> {
  const res = await fetch(url + request.path, {
    method: request.method ?? (request.body === undefined ? "GET" : "POST"),
    headers: request.headers,
    body: request.body,
    redirect: "manual",
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Sends bytes as they are (no URL normalization) and parses the HTTP/1.1 answer. */
async function raw(url: string, head: string): Promise<Answer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  await conn.write(new TextEncoder().encode(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
  const text = await new Response(conn.readable).text();
  const [top = "", body = ""] = [
    text.slice(0, text.indexOf("\r\n\r\n")),
    text.slice(text.indexOf("\r\n\r\n") + 4),
  ];
  const [statusLine = "", ...lines] = top.split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  // Bodies of `Connection: close` answers are sent as they are or chunked; drop chunk sizes.
  const unchunked = headers.get("transfer-encoding") === "chunked"
    ? body.split("\r\n").filter((_, i) => i % 2 === 1).join("")
    : body;
  return { status: Number(statusLine.split(" ")[1]), headers, text: unchunked };
}

const STACK_OR_PATH = [
  /^\s*at\s/m,
  /file:\/\//,
  /\.tsx?:\d+/,
  /node_modules/,
  /\/work\//,
  /Deno\./,
  /TypeError|RangeError|SyntaxError/,
];

/** A clear refusal: the status wanted, the JSON error shape, no internals. */
function assertRefusal(name: string, answer: Answer, status: number, code?: string): void {
  assert.equal(answer.status, status, `${name}: answered ${answer.status} ${answer.text.slice(0, 300)}`);
  assert.match(answer.headers.get("content-type") ?? "", /^application\/json/, `${name}: not JSON`);
  const body = JSON.parse(answer.text) as ErrorBody;
  assert.equal(typeof body.error?.code, "string", `${name}: no error code`);
  assert.equal(typeof body.error?.message, "string", `${name}: no error message`);
  assert.ok(body.error.message.length > 0, `${name}: empty message`);
  if (code) assert.equal(body.error.code, code, `${name}: code ${body.error.code}`);
  for (const pattern of STACK_OR_PATH) {
    assert.doesNotMatch(answer.text, pattern, `${name}: the answer leaks ${pattern}`);
  }
}

async function assertStillServing(server: TestServer, after: string): Promise<void> {
  const res = await fetch(`${server.url}/api/projects`, { headers: AUTH });
  await res.body?.cancel();
  assert.equal(res.status, 200, `the server stopped serving after: ${after}`);
}

function bytes(...parts: (string | number[])[]): Uint8Array<ArrayBuffer> {
  const chunks = parts.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : new Uint8Array(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A 10 MiB body sent chunked (no Content-Length), generated as it is read. */
function chunkedBody(total = 10 * 1024 * 1024): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(`{"message":"${"x".repeat(64 * 1024 - 12)}`);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ token: TOKEN, next: "/" }),
  });
  await res.body?.cancel();
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  assert.ok(cookie?.startsWith(`${SESSION_COOKIE}=`), "signing in sets the session cookie");
  return cookie!;
}

Deno.test("every request in the corpus of bad requests gets a clear 4xx and the server keeps serving", async () => {
  const unhandled: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => unhandled.push(args);
  try {
    await using server = await startServer({ LANTERN_TOKEN: TOKEN, LANTERN_RATE_SIGN_IN_PER_MIN: "100000" });
    const url = server.url;
    const project = await (await fetch(`${url}/api/projects`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ name: "Target" }),
    })).json() as Project;
    const started = await (await fetch(`${url}/api/projects/${project.id}/runs`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ message: "Hello" }),
    })).json() as RunStarted;
    const p = `/api/projects/${project.id}`;
    const cookie = await signIn(url);
    const [, realSession = ""] = cookie.split("=");
    const [expiry = "", nonce = "", signature = ""] = realSession.split(".");
    const otherToken = await new Authenticator("another-token-entirely-000", { sessionTtlMs: 60_000 })
      .issueSession();
    const expired = await new Authenticator(TOKEN, { sessionTtlMs: 1_000, now: () => Date.now() - 60_000 })
      .issueSession();
    const tooLong = await new Authenticator(TOKEN, {
      sessionTtlMs: 7 * 24 * 3600_000,
      now: () => Date.now() + 30 * 24 * 3600_000,
    }).issueSession();
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

    const cases: [name: string, request: Attempt, status: number, code?: string][] = [
      // Not JSON, wrong types.
      ["not JSON", { path: "/api/projects", headers: JSON_AUTH, body: "{name: 'x'" }, 400, "invalid_json"],
      ["empty JSON body", { path: "/api/projects", headers: JSON_AUTH, body: "" }, 400, "invalid_json"],
      ["JSON null", { path: "/api/projects", headers: JSON_AUTH, body: "null" }, 400, "invalid_body"],
      ["JSON array", { path: "/api/projects", headers: JSON_AUTH, body: "[]" }, 400, "invalid_body"],
      ["JSON string", { path: "/api/projects", headers: JSON_AUTH, body: '"name"' }, 400, "invalid_body"],
      [
        "name is a number",
        { path: "/api/projects", headers: JSON_AUTH, body: '{"name":5}' },
        400,
        "invalid_body",
      ],
      [
        "name is null",
        { path: "/api/projects", headers: JSON_AUTH, body: '{"name":null}' },
        400,
        "invalid_body",
      ],
      [
        "name is blank",
        { path: "/api/projects", headers: JSON_AUTH, body: '{"name":"   "}' },
        400,
        "invalid_body",
      ],
      ["message missing", { path: `${p}/chat`, headers: JSON_AUTH, body: "{}" }, 400, "invalid_body"],
      [
        "message is an object",
        {
          path: `${p}/runs`,
          headers: JSON_AUTH,
          body: '{"message":{"text":"hi"}}',
        },
        400,
        "invalid_body",
      ],
      [
        "message is an array",
        { path: `${p}/chat-stream`, headers: JSON_AUTH, body: '{"message":["a"]}' },
        400,
      ],
      ["memory text is true", { path: `${p}/memories`, headers: JSON_AUTH, body: '{"text":true}' }, 400],
      [
        "a number too large for JSON",
        {
          path: "/api/projects",
          headers: JSON_AUTH,
          body: '{"name":1e999999}',
        },
        400,
        "invalid_body",
      ],
      // Huge bodies.
      [
        "a message over 32 KiB",
        {
          path: `${p}/runs`,
          headers: JSON_AUTH,
          body: JSON.stringify({ message: "é".repeat(17_000) }),
        },
        413,
        "message_too_large",
      ],
      [
        "a body over 64 KiB",
        {
          path: `${p}/runs`,
          headers: JSON_AUTH,
          body: JSON.stringify({ message: "x".repeat(70_000) }),
        },
        413,
        "body_too_large",
      ],
      [
        "a 10 MiB chunked body",
        { path: `${p}/chat`, headers: JSON_AUTH, body: chunkedBody() },
        413,
        "body_too_large",
      ],
      [
        "a 10 MiB chunked form",
        {
          path: "/projects",
          headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded" },
          body: chunkedBody(),
        },
        413,
        "body_too_large",
      ],
      [
        "a huge body to a route that reads none",
        {
          path: `${p}/runs/${started.runId}/cancel`,
          headers: JSON_AUTH,
          body: "x".repeat(200_000),
        },
        413,
        "body_too_large",
      ],
      // Deep JSON.
      ["100k nested arrays", { path: "/api/projects", headers: JSON_AUTH, body: deep(100_000) }, 413],
      ["30k nested arrays under the size cap", {
        path: "/api/projects",
        headers: JSON_AUTH,
        body: deep(30_000),
      }, 400],
      ["10k nested objects", { path: `${p}/chat`, headers: JSON_AUTH, body: deepObject(10_000) }, 400],
      [
        "a message of 10k nested arrays",
        {
          path: `${p}/chat`,
          headers: JSON_AUTH,
          body: `{"message":${deep(10_000)}}`,
        },
        400,
        "invalid_body",
      ],
      // Invalid UTF-8, control characters, NUL bytes.
      [
        "invalid UTF-8",
        {
          path: "/api/projects",
          headers: JSON_AUTH,
          body: bytes('{"name":"', [0xff, 0xfe], '"}'),
        },
        400,
        "invalid_utf8",
      ],
      [
        "an overlong UTF-8 slash",
        {
          path: "/api/projects",
          headers: JSON_AUTH,
          body: bytes('{"name":"', [0xc0, 0xaf], '"}'),
        },
        400,
        "invalid_utf8",
      ],
      [
        "a UTF-8 encoded surrogate",
        {
          path: `${p}/chat`,
          headers: JSON_AUTH,
          body: bytes('{"message":"', [0xed, 0xa0, 0x80], '"}'),
        },
        400,
        "invalid_utf8",
      ],
      [
        "a truncated UTF-8 sequence",
        {
          path: `${p}/chat`,
          headers: JSON_AUTH,
          body: bytes('{"message":"', [0xe2, 0x82]),
        },
        400,
        "invalid_utf8",
      ],
      [
        "a control character",
        { path: "/api/projects", headers: JSON_AUTH, body: '{"name":"a\\u0007b"}' },
        400,
      ],
      [
        "an escape sequence",
        {
          path: `${p}/chat`,
          headers: JSON_AUTH,
          body: '{"message":"\\u001b[31mred"}',
        },
        400,
        "invalid_body",
      ],
      ["a NUL in a string", { path: `${p}/chat`, headers: JSON_AUTH, body: '{"message":"a\\u0000b"}' }, 400],
      [
        "a raw NUL byte",
        {
          path: "/api/projects",
          headers: JSON_AUTH,
          body: bytes('{"name":"a', [0], 'b"}'),
        },
        400,
        "invalid_json",
      ],
      [
        "a NUL in a form",
        {
          path: "/projects",
          headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded" },
          body: "name=a%00b",
        },
        400,
        "invalid_body",
      ],
      // Path traversal in ids, unknown ids.
      ["encoded ../ as a project id", { path: "/api/projects/..%2F..%2Fetc%2Fpasswd", headers: AUTH }, 404],
      ["encoded dots as a project id", { path: "/api/projects/%2e%2e/messages", headers: AUTH }, 404],
      ["an encoded slash in a run id", { path: `${p}/runs/a%2Fb`, headers: AUTH }, 404, "run_not_found"],
      ["encoded ../ as a run id", { path: `${p}/runs/..%2F..%2F${project.id}/events`, headers: AUTH }, 404],
      ["a backslash in an id", { path: `/api/projects/..%5C..%5Cwin.ini`, headers: AUTH }, 404],
      ["a NUL in an id", { path: "/api/projects/abc%00def", headers: AUTH }, 404, "not_found"],
      ["an id of 10,000 characters", { path: `/api/projects/${"a".repeat(10_000)}`, headers: AUTH }, 404],
      ["an upper-case id", { path: `/api/projects/${project.id.toUpperCase()}`, headers: AUTH }, 404],
      ["an unknown project", { path: `/api/projects/${newId()}`, headers: AUTH }, 404, "project_not_found"],
      ["an unknown project's messages", { path: `/api/projects/${newId()}/messages`, headers: AUTH }, 404],
      ["an unknown run", { path: `${p}/runs/${newId()}`, headers: AUTH }, 404, "run_not_found"],
      [
        "an unknown run's events",
        { path: `${p}/runs/${newId()}/events`, headers: AUTH },
        404,
        "run_not_found",
      ],
      [
        "cancelling an unknown run",
        {
          path: `${p}/runs/${newId()}/cancel`,
          method: "POST",
          headers: AUTH,
        },
        404,
        "run_not_found",
      ],
      [
        "deleting an unknown memory",
        {
          path: `${p}/memories/${newId()}`,
          method: "DELETE",
          headers: AUTH,
        },
        404,
        "memory_not_found",
      ],
      ["an unknown API path", { path: "/api/secrets", headers: AUTH }, 404, "not_found"],
      [
        "a bad Last-Event-ID",
        {
          path: `${p}/runs/${started.runId}/events`,
          headers: { ...AUTH, "last-event-id": "1; DROP TABLE" },
        },
        400,
        "invalid_last_event_id",
      ],
      [
        "a negative lastEventId",
        {
          path: `${p}/runs/${started.runId}/events?lastEventId=-1`,
          headers: AUTH,
        },
        400,
        "invalid_last_event_id",
      ],
      // Wrong methods and content types.
      [
        "PUT on the project list",
        { path: "/api/projects", method: "PUT", headers: JSON_AUTH, body: "{}" },
        405,
      ],
      ["PUT on a project", { path: p, method: "PUT", headers: JSON_AUTH, body: "{}" }, 405],
      [
        "PATCH on a project without a name",
        { path: p, method: "PATCH", headers: JSON_AUTH, body: "{}" },
        400,
      ],
      ["DELETE on the conversation", { path: `${p}/messages`, method: "DELETE", headers: AUTH }, 405],
      [
        "GET on cancel",
        { path: `${p}/runs/${started.runId}/cancel`, headers: AUTH },
        405,
        "method_not_allowed",
      ],
      ["OPTIONS without CORS", { path: "/api/projects", method: "OPTIONS", headers: AUTH }, 405],
      [
        "text/plain",
        {
          path: "/api/projects",
          headers: { ...AUTH, "content-type": "text/plain" },
          body: '{"name":"x"}',
        },
        415,
        "unsupported_media_type",
      ],
      ["no content type", { path: `${p}/chat`, headers: AUTH, body: new Blob(['{"message":"x"}']) }, 415],
      ["a form to the API", {
        path: "/api/projects",
        headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded" },
        body: "name=x",
      }, 415],
      ["multipart to the API", {
        path: `${p}/memories`,
        headers: AUTH,
        body: (() => {
          const form = new FormData();
          form.set("text", "x");
          return form;
        })(),
      }, 415],
      [
        "JSON to the page form",
        {
          path: "/projects",
          headers: JSON_AUTH,
          body: '{"name":"x"}',
        },
        415,
        "unsupported_media_type",
      ],
      ["a JSON look-alike type", {
        path: "/api/projects",
        headers: { ...AUTH, "content-type": "application/jsonp" },
        body: '{"name":"x"}',
      }, 415],
      // Issue 13: other charsets, lone surrogates, bidi overrides in names.
      [
        "JSON declared UTF-16",
        {
          path: "/api/projects",
          headers: { ...AUTH, "content-type": "application/json; charset=utf-16" },
          body: new Uint8Array(new Uint16Array([...'{"name":"x"}'].map((c) => c.charCodeAt(0))).buffer),
        },
        415,
        "unsupported_charset",
      ],
      [
        "a form declared Latin-1",
        {
          path: "/projects",
          headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded; charset=iso-8859-1" },
          body: "name=caf%E9",
        },
        415,
        "unsupported_charset",
      ],
      [
        "a lone surrogate in a name",
        {
          path: "/api/projects",
          headers: JSON_AUTH,
          body: '{"name":"a\\ud800"}',
        },
        400,
        "invalid_body",
      ],
      [
        "a lone surrogate in a message",
        {
          path: `${p}/chat`,
          headers: JSON_AUTH,
          body: '{"message":"\\udfff hi"}',
        },
        400,
        "invalid_body",
      ],
      [
        "a right-to-left override in a name",
        {
          path: "/api/projects",
          headers: JSON_AUTH,
          body: '{"name":"report\\u202Efdp.exe"}',
        },
        400,
        "invalid_body",
      ],
      // Missing or wrong tokens, forged cookies.
      ["no token", { path: "/api/projects" }, 401, "unauthorized"],
      [
        "no token, posting",
        {
          path: "/api/projects",
          headers: { "content-type": "application/json" },
          body: '{"name":"x"}',
        },
        401,
        "unauthorized",
      ],
      ["a wrong token", { path: "/api/projects", headers: { authorization: "Bearer not-the-token" } }, 401],
      [
        "the token with a character more",
        {
          path: "/api/projects",
          headers: { authorization: `Bearer ${TOKEN}x` },
        },
        401,
        "unauthorized",
      ],
      ["the token less a character", {
        path: "/api/projects",
        headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      }, 401],
      ["an empty bearer", { path: "/api/projects", headers: { authorization: "Bearer" } }, 401],
      [
        "the token as Basic auth",
        {
          path: "/api/projects",
          headers: { authorization: `Basic ${btoa(`user:${TOKEN}`)}` },
        },
        401,
        "unauthorized",
      ],
      ["the token as a query parameter", { path: `/api/projects?token=${TOKEN}` }, 401, "unauthorized"],
      [
        "a random session cookie",
        {
          path: "/api/projects",
          headers: { cookie: `${SESSION_COOKIE}=${crypto.randomUUID()}` },
        },
        401,
        "unauthorized",
      ],
      [
        "the raw token as the session cookie",
        {
          path: "/api/projects",
          headers: { cookie: `${SESSION_COOKIE}=${TOKEN}` },
        },
        401,
        "unauthorized",
      ],
      [
        "a session with a later expiry and the old signature",
        {
          path: "/api/projects",
          headers: { cookie: `${SESSION_COOKIE}=${Number(expiry) + 1}.${nonce}.${signature}` },
        },
        401,
        "unauthorized",
      ],
      ["a session with another nonce", {
        path: "/api/projects",
        headers: { cookie: `${SESSION_COOKIE}=${expiry}.${"A".repeat(22)}.${signature}` },
      }, 401],
      ["a session with a flipped signature", {
        path: "/api/projects",
        headers: {
          cookie: `${SESSION_COOKIE}=${expiry}.${nonce}.${signature.slice(0, -1)}${
            signature.endsWith("A") ? "B" : "A"
          }`,
        },
      }, 401],
      ["a session signed for another token", {
        path: "/api/projects",
        headers: { cookie: `${SESSION_COOKIE}=${otherToken}` },
      }, 401],
      [
        "an expired session",
        { path: "/api/projects", headers: { cookie: `${SESSION_COOKIE}=${expired}` } },
        401,
      ],
      ["a session valid for longer than sessions last", {
        path: "/api/projects",
        headers: { cookie: `${SESSION_COOKIE}=${tooLong}` },
      }, 401],
      ["a session cookie under another name", {
        path: "/api/projects",
        headers: { cookie: `session=${realSession}` },
      }, 401],
      [
        "an events stream without a token",
        { path: `${p}/runs/${started.runId}/events` },
        401,
        "unauthorized",
      ],
      // Cross-origin posts.
      [
        "a cross-origin post with the session cookie",
        {
          path: "/api/projects",
          headers: { cookie, origin: "https://evil.example", "content-type": "application/json" },
          body: '{"name":"pwned"}',
        },
        403,
        "cross_site_request",
      ],
      [
        "a cross-site form post with the session cookie",
        {
          path: "/projects",
          headers: {
            cookie,
            origin: "https://evil.example",
            "sec-fetch-site": "cross-site",
            "content-type": "application/x-www-form-urlencoded",
          },
          body: "name=pwned",
        },
        403,
        "cross_site_request",
      ],
      [
        "a same-site (sibling subdomain) post",
        {
          path: `${p}/memories`,
          headers: { cookie, "sec-fetch-site": "same-site", "content-type": "application/json" },
          body: '{"text":"pwned"}',
        },
        403,
        "cross_site_request",
      ],
      [
        "an opaque origin (sandboxed frame)",
        {
          path: `${p}/runs/${started.runId}/cancel`,
          headers: { cookie, origin: "null" },
          method: "POST",
        },
        403,
        "cross_site_request",
      ],
      ["a cross-origin delete", {
        path: p,
        method: "DELETE",
        headers: { cookie, origin: "http://localhost.evil.example" },
      }, 403],
      [
        "a cookie without any browser headers",
        {
          path: "/api/projects",
          headers: { cookie, "content-type": "application/json" },
          body: '{"name":"pwned"}',
        },
        403,
        "cross_site_request",
      ],
      [
        "a cross-origin sign-in",
        {
          path: "/sign-in",
          headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
          body: `token=${TOKEN}`,
        },
        403,
        "cross_site_request",
      ],
    ];

    const names = new Set<string>();
    for (const [name, request, status, code] of cases) {
      assert.ok(!names.has(name), `duplicate case ${name}`);
      names.add(name);
      let answer: Answer;
      try {
        answer = await send(url, request);
      } catch (error) {
        throw new Error(`${name}: the request failed: ${error}`);
      }
      assertRefusal(name, answer, status, code);
      await assertStillServing(server, name);
    }

    // Requests a client library would normalize away, sent byte for byte.
    const rawCases: [string, string, number][] = [
      ["../ out of the static folder", "GET /static/../deno.json HTTP/1.1", 404],
      ["encoded ../ out of the static folder", "GET /static/..%2fdeno.json HTTP/1.1", 404],
      ["encoded dots out of the static folder", "GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1", 404],
      ["a backslash out of the static folder", "GET /static/..%5c..%5cmain.ts HTTP/1.1", 404],
      ["a NUL in a static path", "GET /static/styles.css%00.json HTTP/1.1", 404],
      ["../ past the public static prefix", "GET /static/../api/projects HTTP/1.1", 404],
      ["an absolute URL to another host", "GET http://evil.example/api/projects HTTP/1.1", 401],
    ];
    for (const [name, head, status] of rawCases) {
      const answer = await raw(url, head);
      assertRefusal(name, answer, status);
      assert.doesNotMatch(answer.text, /"imports"|compilerOptions|root:x:0/, `${name}: served a file`);
      await assertStillServing(server, name);
    }

    // Nothing was created by the refused requests, and nothing was a 500 on the inside.
    const projects = await (await fetch(`${url}/api/projects`, { headers: AUTH })).json() as Project[];
    assert.deepEqual(projects.map((x) => x.name), ["Target"]);
    const memories = await (await fetch(`${url}${p}/memories`, { headers: AUTH })).json() as unknown[];
    assert.deepEqual(memories, []);
    assert.deepEqual(unhandled.filter((args) => String(args[0]).includes("Unhandled")), []);
  } finally {
    console.error = consoleError;
  }
});
