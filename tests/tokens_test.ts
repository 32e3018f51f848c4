/**
 * Token-level delivery over the native event stream: each token reaches the
 * client while the engine is still producing the answer, not when the
 * completion step ends. The engine sends its next token only once the test
 * has received the previous one, so a server that held tokens back would
 * never get past the first (and the test fails at its deadline).
 */

import assert from "node:assert/strict";
import type { RunEvent } from "../lib/protocol.ts";
import { chatStream, collectRunEvents, createProject, readEvents, startServer, within } from "./helpers.ts";
import { gatedTokens, openEvents, startCustomServer, startRun } from "./runs_helpers.ts";

Deno.test("each token reaches the client before the engine produces the next one", async () => {
  const gates = gatedTokens(["One ", "token ", "at ", "a ", "time."]);
  await using server = await startCustomServer({}, { engine: gates.engine });
  const project = await createProject(server.url);
  // Even the response's head must come while the engine holds the rest of the answer.
  const res = await within(
    "the stream's response while the engine waits",
    chatStream(server.url, project.id, "hi"),
  );
  assert.equal(res.status, 200);
  const source = readEvents(res)[Symbol.asyncIterator]();
  const received: RunEvent[] = [];
  const next = async (what: string) => {
    const step = await within(what, source.next());
    assert.ok(!step.done, `the stream ended while waiting for ${what}`);
    const event = JSON.parse(step.value.data) as RunEvent;
    received.push(event);
    return event;
  };
  for (const [i, token] of gates.tokens.entries()) {
    // Everything up to this token must arrive while the engine waits for us.
    let event: RunEvent;
    do event = await next(`token ${i + 1} ("${token}") while the engine holds the rest`); while (
      event.type !== "token"
    );
    assert.equal(event.delta, token);
    assert.ok(!received.some((e) => e.type === "result"), "the result came before the last token");
    gates.release();
  }
  for (let step = await source.next(); !step.done; step = await source.next()) {
    received.push(JSON.parse(step.value.data) as RunEvent);
  }
  const last = received.at(-1)!;
  assert.ok(last.type === "result", `the run ended with ${last.type}`);
  assert.equal(last.result.message, gates.tokens.join(""));
  // The tokens sit between the completion step's start and its end.
  const marks = received.map((e) =>
    e.type === "progress" && e.progress.step === "completion" ? `completion:${e.progress.phase}` : e.type
  );
  const first = marks.indexOf("token");
  assert.equal(marks[first - 1], "completion:start");
  assert.deepEqual(marks.slice(first, first + gates.tokens.length), gates.tokens.map(() => "token"));
  assert.deepEqual(marks.slice(first + gates.tokens.length), ["completion:end", "result"]);
});

Deno.test("a follower of a run gets each token before the next is produced (GET events)", async () => {
  const gates = gatedTokens(["Alpha ", "beta ", "gamma."]);
  await using server = await startCustomServer({}, { engine: gates.engine });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "hi");
  const res = await within(
    "the events response while the engine waits",
    openEvents(server.url, run.eventsUrl),
  );
  const source = readEvents(res)[Symbol.asyncIterator]();
  let seen = 0;
  while (seen < gates.tokens.length) {
    const step = await within(`token ${seen + 1} while the engine holds the rest`, source.next());
    assert.ok(!step.done, "the stream ended before every token");
    const event = JSON.parse(step.value.data) as RunEvent;
    assert.notEqual(event.type, "result");
    if (event.type !== "token") continue;
    assert.equal(event.delta, gates.tokens[seen]);
    seen++;
    gates.release();
  }
  await source.return?.(undefined);
});

Deno.test("with the local engine, the first token arrives before the run's result is emitted", async () => {
  // A paced answer of many tokens: spread over time, not one burst at the end.
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "0", LANTERN_LOCAL_TOKEN_MS: "5" });
  const project = await createProject(server.url);
  const events = await collectRunEvents(await chatStream(server.url, project.id, "help"));
  const result = events.at(-1)!;
  assert.equal(result.type, "result");
  const tokens = events.filter((e) => e.type === "token");
  assert.ok(tokens.length > 10, `only ${tokens.length} tokens`);
  // Causal, same clock: the client held the first token before the server emitted the result.
  assert.ok(
    tokens[0]!.at < result.ts,
    `first token received at ${tokens[0]!.at}, result emitted at ${result.ts}`,
  );
  // And the tokens were emitted one by one, each after the one before.
  for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]!.ts > tokens[i - 1]!.ts);
});
