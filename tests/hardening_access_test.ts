/**
 * Issue 13's access repros, each against a live server: DNS rebinding (a
 * foreign `Host`), sign-out that did not revoke, a token echoed into
 * `Location`, the right bearer refused from a limited address, run logs left
 * after a project's deletion, a token that could never match, lone
 * surrogates and bidi overrides stored as given, UTF-16 bodies read as UTF-8.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { fdWarning, parseProcLimits } from "../lib/http/fd_limit.ts";
import { accessNotice } from "../main.ts";
import type { ChatResult, ErrorBody, Project } from "../lib/protocol.ts";
import { call, createProject, startServer, TEST_ENV } from "./helpers.ts";
import { head, rawExchange } from "./hardening_helpers.ts";

const TOKEN = "hardening-access-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function errorCode(body: string): string {
  return (JSON.parse(body) as ErrorBody).error.code;
}

Deno.test("without a token, a rebound Host is refused with 421 before anything runs", async () => {
  await using server = await startServer();
  const port = portOf(server.url);
  const evil = `evil.example:${port}`;
  const origin = { origin: `http://${evil}`, "sec-fetch-site": "same-origin" };
  const json = JSON.stringify({ name: "Rebound" });

  const create = await rawExchange(
    port,
    head("POST", "/api/projects", evil, {
      ...origin,
      "content-type": "application/json",
      "content-length": String(json.length),
    }),
    json,
    { untilAnswer: true },
  );
  assert.equal(create.status, 421, create.body);
  assert.equal(errorCode(create.body), "misdirected_request");
  assert.match(create.headers.get("content-type") ?? "", /^application\/json/);
  assert.ok(create.headers.get("content-security-policy"), "the 421 carries the security headers");

  const read = await rawExchange(port, head("GET", "/api/projects", evil), "", { untilAnswer: true });
  assert.equal(read.status, 421);
  const form = "name=Rebound";
  const page = await rawExchange(
    port,
    head("POST", "/projects", evil, {
      ...origin,
      "content-type": "application/x-www-form-urlencoded",
      "content-length": String(form.length),
    }),
    form,
    { untilAnswer: true },
  );
  assert.equal(page.status, 421);
  assert.deepEqual(await server.lantern.stores.projects.list(), [], "no refused request created anything");

  // The names a local browser uses work, on any port, and /healthz answers whatever the Host.
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "localhost"]) {
    const ok = await rawExchange(port, head("GET", "/api/projects", host), "", { untilAnswer: true });
    assert.equal(ok.status, 200, `${host}: ${ok.body}`);
  }
  const health = await rawExchange(port, head("GET", "/healthz", evil), "", { untilAnswer: true });
  assert.notEqual(health.status, 421, "/healthz is exempt from the Host check");
});

Deno.test("with a token any Host passes the Host check; LANTERN_ALLOWED_HOSTS restricts it again", async () => {
  {
    await using server = await startServer({ LANTERN_TOKEN: TOKEN });
    const port = portOf(server.url);
    const res = await rawExchange(port, head("GET", "/api/projects", "lantern.example", AUTH), "", {
      untilAnswer: true,
    });
    assert.equal(res.status, 200);
  }
  {
    await using server = await startServer({
      LANTERN_TOKEN: TOKEN,
      LANTERN_ALLOWED_HOSTS: "lantern.example",
    });
    const port = portOf(server.url);
    const ok = await rawExchange(port, head("GET", "/api/projects", `lantern.example:${port}`, AUTH), "", {
      untilAnswer: true,
    });
    assert.equal(ok.status, 200);
    const refused = await rawExchange(port, head("GET", "/api/projects", `127.0.0.1:${port}`, AUTH), "", {
      untilAnswer: true,
    });
    assert.equal(refused.status, 421);
  }
  assert.throws(
    () => loadConfig({ LANTERN_ALLOWED_HOSTS: "good.example, bad host" }),
    /LANTERN_ALLOWED_HOSTS/,
  );
});

async function signIn(url: string, token = TOKEN): Promise<Response> {
  return await fetch(`${url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ token, next: "/" }),
  });
}

function cookieOf(res: Response): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0]!;
}

Deno.test("sign-out revokes the session: the same cookie no longer works", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN });
  const signedIn = await signIn(server.url);
  await signedIn.body?.cancel();
  const cookie = cookieOf(signedIn);
  const before = await fetch(`${server.url}/api/projects`, { headers: { cookie } });
  await before.body?.cancel();
  assert.equal(before.status, 200);

  const out = await fetch(`${server.url}/sign-out`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, origin: server.url },
  });
  await out.body?.cancel();
  assert.equal(out.status, 303);
  const after = await fetch(`${server.url}/api/projects`, { headers: { cookie } });
  assert.equal(after.status, 401, "a signed-out cookie kept elsewhere is refused");
  assert.equal(((await after.json()) as ErrorBody).error.code, "unauthorized");
});

Deno.test("a token in the query string is never echoed into Location", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN });
  for (const query of [`?token=${TOKEN}&tab=2`, `?tab=2&x=${TOKEN}`, `?access_token=abc&tab=2`]) {
    const res = await fetch(`${server.url}/projects/abc${query}`, { redirect: "manual" });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    const location = res.headers.get("location") ?? "";
    assert.ok(!location.includes(TOKEN), `Location leaks the token: ${location}`);
    assert.ok(!/token/i.test(decodeURIComponent(location)), `Location names a token: ${location}`);
    assert.match(decodeURIComponent(location), /tab=2/, "other parameters are kept");
  }
});

Deno.test("the right bearer token works from an address over the failed sign-in limit", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN, LANTERN_RATE_SIGN_IN_PER_MIN: "2" });
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${server.url}/api/projects`, {
      headers: { authorization: `Bearer guess-${i}` },
    });
    await res.body?.cancel();
  }
  const wrong = await fetch(`${server.url}/api/projects`, { headers: { authorization: "Bearer guess-x" } });
  await wrong.body?.cancel();
  assert.equal(wrong.status, 429);
  const right = await fetch(`${server.url}/api/projects`, { headers: AUTH });
  await right.body?.cancel();
  assert.equal(right.status, 200);
});

Deno.test("deleting a project deletes its runs and their event logs", async () => {
  // A small tool-output bound: the summary below is cut, and its whole kept in parts.
  await using server = await startServer({ LANTERN_MAX_TOOL_OUTPUT_CHARS: "500" });
  const project = await createProject(server.url, "Doomed");
  for (let i = 0; i < 5; i++) {
    const text = `Fact ${i}: ${"the garden needs water ".repeat(10)}`;
    assert.equal(
      (await call(`${server.url}/api/projects/${project.id}/memories`, { body: { text } })).status,
      201,
    );
  }
  const summary = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "Summarize the project" },
  });
  assert.equal(summary.body.actions[0]?.truncated, true, "the summary's output was cut and kept whole");
  const chat = await call<{ runId: string }>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "Remember that the secret word is heliotrope" },
  });
  assert.equal(chat.status, 200);
  const kv = server.lantern.stores.kv;
  const runs = (await server.lantern.runs.list(project.id)).map((r) => r.id);
  assert.equal(runs.length, 2);
  const runId = runs[1]!;
  const count = async (prefix: Deno.KvKey) => (await Array.fromAsync(kv.list({ prefix }))).length;
  if (server.lantern.config.runLog) {
    assert.ok(await count(["run_events", runId]) > 0, "the run was logged");
  }

  const deleted = await call(`${server.url}/api/projects/${project.id}`, { method: "DELETE" });
  assert.equal(deleted.status, 200);
  assert.equal(await count(["runs", project.id]), 0);
  assert.equal(
    await count(["run_events", runId]),
    0,
    "no event (with the message text) outlives the project",
  );
  assert.equal((await kv.get(["run_head", runId])).value, null);
  // Nothing else names the project or its runs (memories, parts, kept outputs, the memory count), but the
  // project feed's one change that says it was deleted (kept until the feed's TTL).
  const ids = new Set([project.id, ...runs]);
  const left: string[] = [];
  for await (const entry of kv.list({ prefix: [] })) {
    if (!entry.key.some((part) => ids.has(String(part)))) continue;
    const value = entry.value as { type?: string } | null;
    if (entry.key[0] === "feed" && (typeof value !== "object" || value?.type === "project.deleted")) continue;
    left.push(JSON.stringify(entry.key));
  }
  assert.deepEqual(left, [], "no key of the deleted project is left");
});

Deno.test("a token outside printable ASCII is refused at start-up with a clear message", async () => {
  assert.throws(() => loadConfig({ LANTERN_TOKEN: "passwörd-long-enough-123" }), /printable ASCII.*U\+00F6/);
  assert.equal(loadConfig({ LANTERN_TOKEN: "plain ASCII token ~!@#" }).token, "plain ASCII token ~!@#");
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    env: { ...TEST_ENV, PORT: "0", LANTERN_TOKEN: "tökén-tökén-tökén-tökén" },
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(child.code, 1);
  assert.match(
    new TextDecoder().decode(child.stderr),
    /Lantern cannot start: LANTERN_TOKEN must be printable ASCII/,
  );
});

Deno.test("text is normalised: lone surrogates and bidi overrides in names are refused, NFC is stored", async () => {
  await using server = await startServer();
  const post = (body: string) =>
    fetch(`${server.url}/api/projects`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  for (
    const [what, body] of [
      ["a lone high surrogate", '{"name":"a\\ud800b"}'],
      ["a lone low surrogate", '{"name":"\\udc00"}'],
      ["a right-to-left override", '{"name":"invoice\\u202Egpj.exe"}'],
      ["an isolate", '{"name":"a\\u2066b\\u2069"}'],
    ] as const
  ) {
    const res = await post(body);
    assert.equal(res.status, 400, what);
    assert.equal(((await res.json()) as ErrorBody).error.code, "invalid_body", what);
  }
  const project = await createProject(server.url, "Cafe\u0301");
  assert.equal(project.name, "Caf\u00e9", "stored in NFC form");
  const message = await call<ErrorBody>(`${server.url}/api/projects/${project.id}/chat`, {
    body: '{"message":"hi \\ud83d there"}',
  });
  assert.equal(message.status, 400);
  assert.match(message.body.error.message, /surrogate/);
  assert.equal((await server.lantern.runs.list(project.id)).length, 0, "no run started");
  const names = (await server.lantern.stores.projects.list()).map((p: Project) => p.name);
  assert.deepEqual(names, ["Caf\u00e9"]);
});

Deno.test("a body in another charset than UTF-8 is refused with 415", async () => {
  await using server = await startServer();
  const utf16 = new Uint8Array(new Uint16Array([...'{"name":"x"}'].map((c) => c.charCodeAt(0))).buffer);
  for (
    const [type, body] of [
      ["application/json; charset=utf-16", utf16],
      ["application/json; charset=UTF-16LE", utf16],
      ['application/json; charset="iso-8859-1"', '{"name":"caf\xe9"}'],
    ] as const
  ) {
    const res = await fetch(`${server.url}/api/projects`, {
      method: "POST",
      headers: { "content-type": type },
      body,
    });
    assert.equal(res.status, 415, type);
    assert.equal(((await res.json()) as ErrorBody).error.code, "unsupported_charset", type);
  }
  const form = await fetch(`${server.url}/projects`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=windows-1252",
      origin: server.url,
    },
    body: "name=caf%E9",
  });
  assert.equal(form.status, 415);
  await form.body?.cancel();
  assert.deepEqual(await server.lantern.stores.projects.list(), []);
  const ok = await fetch(`${server.url}/api/projects`, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: '{"name":"ok"}',
  });
  await ok.body?.cancel();
  assert.equal(ok.status, 201);
});

Deno.test("start-up warns about a wildcard HOST without a token, and about a low open-file limit", () => {
  const open = accessNotice(loadConfig({ HOST: "0.0.0.0" })).join("\n");
  assert.match(open, /WARNING: only requests addressed to localhost, 127\.0\.0\.1, \[::1\], 0\.0\.0\.0/);
  assert.match(open, /LANTERN_ALLOWED_HOSTS/);
  const listed = accessNotice(loadConfig({ HOST: "0.0.0.0", LANTERN_ALLOWED_HOSTS: "lantern.lan" })).join(
    "\n",
  );
  assert.doesNotMatch(listed, /only requests addressed/);
  assert.match(listed, /Hosts: lantern\.lan\./);
  assert.doesNotMatch(accessNotice(loadConfig({})).join("\n"), /only requests addressed/);

  const limits = parseProcLimits(
    "Limit Soft Hard Units\nMax open files            1024                 4096                 files\n",
  );
  assert.deepEqual(limits, { soft: 1024, hard: 4096 });
  const warning = fdWarning(loadConfig({}), limits);
  assert.match(warning ?? "", /open-file limit is 4096.*need 10256.*ulimit -n 10256/);
  assert.equal(fdWarning(loadConfig({ LANTERN_MAX_STREAMS: "1000" }), limits), null);
  assert.equal(fdWarning(loadConfig({}), { soft: 65536, hard: 65536 }), null);
});
