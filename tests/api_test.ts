/**
 * Every API route over real HTTP, with good input and bad: the status, the
 * JSON shapes, the effects in KV, and that every error is
 * `{"error":{"code","message"}}` with a 4xx and the server keeps serving.
 */

import assert from "node:assert/strict";
import type { Engine } from "../lib/agent/engine.ts";
import { createApp } from "../lib/app.ts";
import { loadConfig } from "../lib/config.ts";
import {
  type ChatResult,
  type ErrorBody,
  type Memory,
  type Message,
  type PlanAction,
  type Project,
  STEPS,
} from "../lib/protocol.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores, openKv } from "../lib/store/mod.ts";
import {
  call,
  chatStream,
  collectRunEvents,
  createProject,
  startServer,
  TEST_ENV,
  type TestServer,
  within,
} from "./helpers.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID = /^[0-9a-z]{37}$/;

/** Asserts an error response: its status, the JSON error shape, and its code. */
function assertError(
  res: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
  label = "",
): string {
  assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, label);
  const body = res.body as ErrorBody;
  assert.deepEqual(Object.keys(body), ["error"], label);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"], label);
  assert.equal(body.error.code, code, label);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
  return body.error.message;
}

/** The server still answers a plain request. */
async function assertServing(server: TestServer): Promise<void> {
  const res = await call(`${server.url}/api/projects`);
  assert.equal(res.status, 200);
}

function assertChatResult(body: ChatResult): void {
  assert.deepEqual(
    Object.keys(body).sort(),
    ["actions", "engine", "memories", "message", "plan", "runId", "steps"],
  );
  assert.match(body.runId, ID);
  assert.equal(typeof body.message, "string");
  assert.ok(Array.isArray(body.plan) && Array.isArray(body.actions));
  assert.deepEqual(Object.keys(body.memories).sort(), ["added", "removed"]);
  assert.deepEqual(body.steps.map((s) => s.step), [...STEPS]);
  for (const s of body.steps) assert.equal(typeof s.durationMs, "number");
}

Deno.test("projects: POST 201, GET list, GET one, DELETE, then 404", async () => {
  await using server = await startServer();
  const created = await call<Project>(`${server.url}/api/projects`, { body: { name: "  Garden  " } });
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.body).sort(), ["createdAt", "id", "name"]);
  assert.equal(created.body.name, "Garden");
  assert.match(created.body.id, ID);
  assert.match(created.body.createdAt, ISO);
  const other = await createProject(server.url, "Rocket 🚀");

  const list = await call<Project[]>(`${server.url}/api/projects`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body, [other, created.body]);
  const one = await call<Project>(`${server.url}/api/projects/${created.body.id}`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, created.body);

  const deleted = await call(`${server.url}/api/projects/${created.body.id}`, { method: "DELETE" });
  assert.equal(deleted.status, 200);
  assert.deepEqual(deleted.body, { deleted: created.body.id });
  assertError(await call(`${server.url}/api/projects/${created.body.id}`), 404, "project_not_found");
  assertError(
    await call(`${server.url}/api/projects/${created.body.id}`, { method: "DELETE" }),
    404,
    "project_not_found",
  );
  assert.deepEqual((await call<Project[]>(`${server.url}/api/projects`)).body, [other]);
});

Deno.test("deleting a project removes its messages and memories, and no other project's", async () => {
  await using server = await startServer();
  const doomed = await createProject(server.url, "Doomed");
  const kept = await createProject(server.url, "Kept");
  for (const p of [doomed, kept]) {
    await call(`${server.url}/api/projects/${p.id}/chat`, { body: { message: "Remember that tea is at 4" } });
    await call(`${server.url}/api/projects/${p.id}/memories`, { body: { text: "Ana leads design" } });
  }
  const { stores } = server.lantern;
  assert.equal((await stores.messages.list(doomed.id)).length, 2);
  assert.equal((await stores.memories.list(doomed.id)).length, 2);

  assert.equal((await call(`${server.url}/api/projects/${doomed.id}`, { method: "DELETE" })).status, 200);
  assert.deepEqual(await stores.messages.list(doomed.id), []);
  assert.deepEqual(await stores.memories.list(doomed.id), []);
  assertError(await call(`${server.url}/api/projects/${doomed.id}/messages`), 404, "project_not_found");
  assertError(await call(`${server.url}/api/projects/${doomed.id}/memories`), 404, "project_not_found");
  assert.equal((await call<Message[]>(`${server.url}/api/projects/${kept.id}/messages`)).body.length, 2);
  assert.equal((await call<Memory[]>(`${server.url}/api/projects/${kept.id}/memories`)).body.length, 2);
});

Deno.test("deleting a project while a run is going stops the run and leaves nothing behind", async () => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "50" });
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that tea is at 4");
  const reader = res.body!.getReader();
  await reader.read();
  assert.equal((await call(`${server.url}/api/projects/${project.id}`, { method: "DELETE" })).status, 200);
  // The stream ends (with the run's terminal event) instead of hanging.
  await within(
    "the stream of the deleted project's run to end",
    (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })(),
  );
  const leftovers = [];
  for await (const entry of server.lantern.stores.kv.list({ prefix: ["messages", project.id] })) {
    leftovers.push(entry);
  }
  for await (const entry of server.lantern.stores.kv.list({ prefix: ["memories", project.id] })) {
    leftovers.push(entry);
  }
  for await (const entry of server.lantern.stores.kv.list({ prefix: ["runs", project.id] })) {
    leftovers.push(entry);
  }
  // The counts kept beside them too (memories, edits to the conversation).
  const counts = await server.lantern.stores.kv.getMany([["memory_count", project.id], [
    "message_edits",
    project.id,
  ]]);
  leftovers.push(...counts.filter((entry) => entry.versionstamp !== null));
  assert.deepEqual(leftovers, []);
});

Deno.test("messages: oldest first, each {id, role, content, runId, createdAt}", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const empty = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.body, []);
  const first = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "Remember that the launch is on May 3" },
  });
  const second = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "When is the launch?" },
  });
  const { status, body } = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.equal(status, 200);
  assert.deepEqual(body.map((m) => [m.role, m.content, m.runId]), [
    ["user", "Remember that the launch is on May 3", first.body.runId],
    ["assistant", first.body.message, first.body.runId],
    ["user", "When is the launch?", second.body.runId],
    ["assistant", "From what you told me: **The launch is on May 3**", second.body.runId],
  ]);
  for (const m of body) {
    assert.deepEqual(Object.keys(m).sort(), ["content", "createdAt", "id", "role", "runId"]);
    assert.match(m.id, ID);
    assert.match(m.createdAt, ISO);
  }
  assert.deepEqual(body.map((m) => m.createdAt), body.map((m) => m.createdAt).sort());
});

Deno.test("memories: GET, POST 201, DELETE, with bad input refused", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const base = `${server.url}/api/projects/${project.id}/memories`;
  assert.deepEqual((await call(base)).body, []);

  const added = await call<Memory>(base, { body: { text: "  Ana leads design  " } });
  assert.equal(added.status, 201);
  assert.deepEqual(Object.keys(added.body).sort(), ["createdAt", "id", "source", "text"]);
  assert.equal(added.body.text, "Ana leads design");
  assert.equal(added.body.source, "user");
  assert.match(added.body.createdAt, ISO);
  const second = await call<Memory>(base, { body: { text: "The launch is on May 3" } });
  assert.deepEqual((await call<Memory[]>(base)).body, [added.body, second.body]);

  // The agent answers from memories added through the API.
  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "Who leads design?" },
  });
  assert.equal(chat.body.message, "From what you told me: **Ana leads design**");

  const deleted = await call(`${base}/${added.body.id}`, { method: "DELETE" });
  assert.equal(deleted.status, 200);
  assert.deepEqual(deleted.body, { deleted: added.body.id });
  assert.deepEqual((await call<Memory[]>(base)).body, [second.body]);
  assertError(await call(`${base}/${added.body.id}`, { method: "DELETE" }), 404, "memory_not_found");
  assertError(await call(`${base}/not-an-id`, { method: "DELETE" }), 404, "memory_not_found");

  assertError(await call(base, { body: {} }), 400, "invalid_body");
  assertError(await call(base, { body: { text: "   " } }), 400, "invalid_body");
  assertError(await call(base, { body: { text: 42 } }), 400, "invalid_body");
  assertError(await call(base, { body: "not json" }), 400, "invalid_json");
  assertError(await call(base, { body: { text: "x".repeat(16_001) } }), 413, "text_too_large");
  assertError(
    await call(`${server.url}/api/projects/nope/memories`, { body: { text: "x" } }),
    404,
    "project_not_found",
  );
  assert.equal((await call<Memory[]>(base)).body.length, 1);
});

Deno.test("POST chat answers 200 with the result, and the tools really acted", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const chat = (message: string) =>
    call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, { body: { message } });

  const saved = await chat("Remember that the launch is on May 3");
  assert.equal(saved.status, 200);
  assert.match(saved.headers.get("content-type") ?? "", /^application\/json/);
  assertChatResult(saved.body);
  assert.equal(saved.body.engine, "local");
  // The fact's subject travels with it (issue 16), so a later fact on the launch can supersede it.
  assert.deepEqual(saved.body.plan, [{
    tool: "save_memory",
    args: { text: "The launch is on May 3", subject: "launch" },
    why: "“remember” asks to keep “The launch is on May 3”, about “launch” (a date).",
  }]);
  assert.equal(saved.body.actions[0]?.ok, true);
  assert.deepEqual(saved.body.memories.added.map((m) => m.text), ["The launch is on May 3"]);

  const asked = await chat("What is the launch date?");
  assert.equal(asked.body.message, "From what you told me: **The launch is on May 3**");
  const listed = await chat("list memories");
  assert.equal(listed.body.message, "Here is what I remember (1 memory):\n\n- The launch is on May 3");
  const forgot = await chat("forget the launch");
  assert.deepEqual(forgot.body.memories.removed.map((m) => m.text), ["The launch is on May 3"]);
  assert.deepEqual((await call(`${server.url}/api/projects/${project.id}/memories`)).body, []);

  // The run's record matches the answer.
  const run = await call<{ status: string; result: ChatResult }>(
    `${server.url}/api/projects/${project.id}/runs/${saved.body.runId}`,
  );
  assert.equal(run.body.status, "succeeded");
  assert.deepEqual(run.body.result, saved.body);
});

// The stream's headers and that it is never compressed are checked on the wire in stream_test.ts.
Deno.test("POST chat-stream answers 200 with the run's events, ending in its result, and X-Run-Id", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that tea is at 4");
  assert.equal(res.status, 200);
  const events = await collectRunEvents(res);
  const last = events.at(-1);
  assert.ok(last?.type === "result");
  assertChatResult(last.result);
  assert.equal(res.headers.get("x-run-id"), last.result.runId);
  assert.ok(events.filter((e) => e.type === "progress").length >= 16);
});

Deno.test("the chat-stream result equals what the run record and /chat would hold", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const events = await collectRunEvents(await chatStream(server.url, project.id, "hi"));
  const last = events.at(-1);
  assert.ok(last?.type === "result");
  const run = await call<{ result: ChatResult }>(
    `${server.url}/api/projects/${project.id}/runs/${last.result.runId}`,
  );
  assert.deepEqual(run.body.result, last.result);
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.content]), [["user", "hi"], [
    "assistant",
    last.result.message,
  ]]);
});

Deno.test("a message of exactly 32 KiB is accepted; one byte more is 413", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  for (const route of ["chat", "chat-stream"]) {
    const url = `${server.url}/api/projects/${project.id}/${route}`;
    // Multi-byte characters: the limit is in bytes of UTF-8, not characters.
    const exact = "é".repeat(16 * 1024);
    const ok = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: exact }),
    });
    assert.equal(ok.status, 200, route);
    await ok.body?.cancel();
    assertError(await call(url, { body: { message: `${exact}a` } }), 413, "message_too_large", route);
    assertError(await call(url, { body: { message: "a".repeat(40_000) } }), 413, "message_too_large", route);
    // A body past the route's limit is refused before it is read whole.
    assertError(await call(url, { body: { message: "a".repeat(100_000) } }), 413, "body_too_large", route);
  }
  const messages = await server.lantern.stores.messages.list(project.id);
  assert.equal(messages.filter((m) => m.role === "user").length, 2);
  assert.equal(new TextEncoder().encode(messages[0]!.content).length, 32 * 1024);
  await assertServing(server);
});

Deno.test("bad input to chat and chat-stream is a clear 4xx JSON error, never a 500, and serving goes on", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  for (const route of ["chat", "chat-stream"]) {
    const url = `${server.url}/api/projects/${project.id}/${route}`;
    const cases: [
      string,
      { body?: unknown; headers?: Record<string, string>; method?: string },
      number,
      string,
    ][] = [
      ["not JSON", { body: "{nope" }, 400, "invalid_json"],
      ["truncated JSON", { body: '{"message": "hi' }, 400, "invalid_json"],
      [
        "empty body",
        { body: "", headers: { "content-type": "application/json" }, method: "POST" },
        400,
        "invalid_json",
      ],
      ["JSON array", { body: "[]" }, 400, "invalid_body"],
      ["JSON null", { body: "null" }, 400, "invalid_body"],
      ["missing message", { body: {} }, 400, "invalid_body"],
      ["empty message", { body: { message: "" } }, 400, "invalid_body"],
      ["whitespace message", { body: { message: " \n\t  " } }, 400, "invalid_body"],
      ["message not a string", { body: { message: 42 } }, 400, "invalid_body"],
      ["message with control characters", { body: { message: "hi\u0000there" } }, 400, "invalid_body"],
      [
        "text/plain",
        { body: '{"message":"hi"}', headers: { "content-type": "text/plain" } },
        415,
        "unsupported_media_type",
      ],
      [
        "form",
        { body: "message=hi", headers: { "content-type": "application/x-www-form-urlencoded" } },
        415,
        "unsupported_media_type",
      ],
      [
        "no content type",
        { body: new Blob(['{"message":"hi"}']), method: "POST" },
        415,
        "unsupported_media_type",
      ],
      ["GET", { method: "GET" }, 405, "method_not_allowed"],
      ["PUT", { method: "PUT", body: { message: "hi" } }, 405, "method_not_allowed"],
      ["DELETE", { method: "DELETE" }, 405, "method_not_allowed"],
    ];
    for (const [label, init, status, code] of cases) {
      const res = await rawCall(url, init);
      const message = assertError(res, status, code, `${route}: ${label}`);
      assert.ok(!/at \w+ \(|file:\/\/|\.ts:\d+/.test(message), `a stack trace leaked: ${message}`);
      if (status === 405) assert.equal(res.headers.get("allow"), "POST");
    }
    assertError(
      await call(`${server.url}/api/projects/nope/${route}`, { body: { message: "hi" } }),
      404,
      "project_not_found",
    );
    assertError(
      await call(`${server.url}/api/projects/${"0".repeat(37)}/${route}`, { body: { message: "hi" } }),
      404,
      "project_not_found",
    );
    await assertServing(server);
  }
  // Nothing was recorded for any of them.
  assert.deepEqual(await server.lantern.stores.messages.list(project.id), []);
  // And a good request still works.
  const ok = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "hi" },
  });
  assert.equal(ok.status, 200);
});

/** A request whose body may be a Blob (no content type) or a string sent as-is. */
async function rawCall(
  url: string,
  init: { body?: unknown; headers?: Record<string, string>; method?: string },
): Promise<{ status: number; headers: Headers; body: unknown }> {
  if (init.body instanceof Blob || init.method === "POST" && typeof init.body === "string") {
    const res = await fetch(url, { method: "POST", headers: init.headers, body: init.body as BodyInit });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: JSON.parse(text) };
  }
  return await call(url, init);
}

Deno.test("bad input to the project and memory routes is a clear 4xx, and serving goes on", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const projects = `${server.url}/api/projects`;
  assertError(await call(projects, { body: "{" }), 400, "invalid_json");
  assertError(await call(projects, { body: {} }), 400, "invalid_body");
  assertError(await call(projects, { body: { name: "" } }), 400, "invalid_body");
  assertError(await call(projects, { body: { name: "x".repeat(201) } }), 413, "name_too_large");
  assertError(
    await call(projects, { body: "name=x", headers: { "content-type": "text/plain" } }),
    415,
    "unsupported_media_type",
  );
  assertError(await call(projects, { method: "PUT", body: { name: "x" } }), 405, "method_not_allowed");
  assertError(
    await call(`${projects}/${project.id}`, { method: "PUT", body: {} }),
    405,
    "method_not_allowed",
  );
  assertError(
    await call(`${projects}/${project.id}/messages`, { method: "DELETE" }),
    405,
    "method_not_allowed",
  );
  assertError(
    await call(`${projects}/${project.id}/memories`, { method: "PUT", body: {} }),
    405,
    "method_not_allowed",
  );
  assertError(await call(`${projects}/nope`), 404, "project_not_found");
  assertError(await call(`${projects}/nope/messages`), 404, "project_not_found");
  assertError(await call(`${projects}/nope/memories`), 404, "project_not_found");
  assertError(await call(`${server.url}/api/nothing-here`), 404, "not_found");
  // Invalid UTF-8 is refused as such.
  const bytes = await fetch(projects, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
  });
  assertError(
    { status: bytes.status, headers: bytes.headers, body: await bytes.json() },
    400,
    "invalid_utf8",
  );
  await assertServing(server);
  assert.deepEqual((await call<Project[]>(projects)).body, [project]);
  // The next body is read whole, its multi-byte text and a leading byte-order mark included: a refused body
  // leaves nothing behind in the decoder.
  const next = await fetch(projects, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"name":"Café ☕ plans"}')]),
  });
  assert.equal(next.status, 201);
  assert.equal((await next.json() as Project).name, "Café ☕ plans");
});

Deno.test("the server keeps serving through a burst of bad requests mixed with good ones", async () => {
  // Ten runs at once in one project: lift the per-project and per-client caps.
  await using server = await startServer({
    LANTERN_MAX_RUNS_PER_PROJECT: "0",
    LANTERN_RATE_RUNS_PER_MIN: "0",
  });
  const project = await createProject(server.url);
  const url = `${server.url}/api/projects/${project.id}/chat`;
  const results = await Promise.all(
    Array.from(
      { length: 30 },
      (_, i) =>
        i % 3 === 0
          ? call(url, { body: { message: `Remember that fact ${i} is true` } })
          : i % 3 === 1
          ? call(url, { body: "{broken" })
          : call(url, { body: { message: "" } }),
    ),
  );
  for (const [i, res] of results.entries()) {
    assert.equal(res.status, i % 3 === 0 ? 200 : 400, `request ${i}`);
  }
  assert.equal((await server.lantern.stores.memories.list(project.id)).length, 10);
  await assertServing(server);
});

/** Lantern over HTTP with an engine the test chooses (the same pieces createLantern puts together). */
async function startWithEngine(engine: Engine): Promise<{ url: string } & AsyncDisposable> {
  const config = loadConfig(TEST_ENV);
  const kv = await openKv(":memory:");
  const stores = createStores(kv);
  const runs = new RunRegistry({ stores, engine, runTtlMs: 60_000, leaseMs: 10_000 });
  await runs.init();
  const app = createApp({ config, stores, runs });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => app.fetch(req));
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await runs.close(0);
      kv.close();
    },
  };
}

/** An engine whose plan calls a tool that does not exist. */
const badPlanner: Engine = {
  name: "bad-planner",
  model: "bad-planner",
  replansInvalid: false,
  // deno-lint-ignore require-yield
  async *analyze() {
    return { intent: "test", summary: "A test." };
  },
  // deno-lint-ignore require-yield
  async *plan() {
    return [{ tool: "launch_rocket", args: { when: "now" } }] as PlanAction[];
  },
  async *answer() {
    yield { kind: "token" as const, delta: "never" };
  },
};

Deno.test("over HTTP, an invalid plan is an error event on the stream and a 422 from /chat", async () => {
  await using server = await startWithEngine(badPlanner);
  const project = await createProject(server.url);
  const events = await collectRunEvents(await chatStream(server.url, project.id, "go"));
  const last = events.at(-1);
  assert.ok(last?.type === "error", JSON.stringify(last));
  assert.deepEqual(last.error, {
    code: "invalid_plan",
    message: 'The plan is invalid: Unknown tool "launch_rocket".',
    step: "validation",
  });
  assert.equal(events.filter((e) => e.type === "token" || e.type === "result").length, 0);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));

  const chat = await call(`${server.url}/api/projects/${project.id}/chat`, { body: { message: "go" } });
  const message = assertError(chat, 422, "invalid_plan");
  assert.match(message, /launch_rocket/);
  // The server goes on serving, and the conversation has no answer.
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => m.role), ["user", "user"]);
});
