/**
 * Stopping a run reaches the work itself, not only the run's record: the
 * engine's signal aborts, a model request in flight is aborted (the model
 * server sees its client go away), and a tool stops before its next write.
 * Each engine or tool here would otherwise wait for good, so a signal that
 * never arrives fails the test at its deadline.
 */

import assert from "node:assert/strict";
import { OpenAIEngine } from "../lib/agent/openai_engine.ts";
import type { Message, RunRecord, StepName } from "../lib/protocol.ts";
import { call, createProject, within } from "./helpers.ts";
import { startFakeOpenAI } from "./fake_openai_server.ts";
import {
  drain,
  openEvents,
  readUntil,
  runRecord,
  startCustomServer,
  startRun,
  stepStart,
  TestEngine,
} from "./runs_helpers.ts";

Deno.test("a cancelled run's engine sees its signal abort, at the step it was in", async () => {
  const aborted = Promise.withResolvers<StepName>();
  // The engine waits at the planning step until its signal aborts, and says so.
  const engine = new TestEngine({
    pace: (step, signal) =>
      step !== "planning" ? Promise.resolve() : new Promise<void>((_, reject) => {
        signal.addEventListener("abort", () => {
          aborted.resolve(step);
          reject(signal.reason);
        }, { once: true });
      }),
  });
  await using server = await startCustomServer({}, { engine });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that signals arrive");
  const { events, rest } = await readUntil(
    await openEvents(server.url, run.eventsUrl),
    stepStart("planning"),
  );
  const cancel = await call<{ status: string }>(`${server.url}${run.cancelUrl}`, { method: "POST" });
  assert.equal(cancel.status, 200);
  assert.equal(cancel.body.status, "cancelled");
  assert.equal(await within("the engine's signal to abort", aborted.promise), "planning");
  events.push(...await drain(rest));
  assert.equal(events.at(-1)?.type, "cancelled");
});

Deno.test("a cancelled run aborts the model request in flight: the model server sees it", async () => {
  await using fake = startFakeOpenAI();
  fake.script(
    { text: "" },
    // The answer sends two chunks, then nothing until its client goes away.
    { text: "A long answer that the model never finishes.", pieces: 8, stallAfter: 2 },
  );
  const engine = new OpenAIEngine({
    baseUrl: fake.url,
    apiKey: "k",
    model: "test-model",
    maxRetries: 0,
    timeoutMs: 60_000,
  });
  await using server = await startCustomServer({}, { engine });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Tell me a long story");
  const { events, rest } = await readUntil(
    await openEvents(server.url, run.eventsUrl),
    (e) => e.type === "token",
  );
  assert.equal(fake.requests.length, 2, "the answer request is open");
  assert.equal(fake.requests[1]!.cancelled, false);
  const cancel = await call<{ status: string }>(`${server.url}${run.cancelUrl}`, { method: "POST" });
  assert.equal(cancel.body.status, "cancelled");
  await within("the model server to see the answer request aborted", fake.requests[1]!.whenCancelled);
  assert.equal(fake.requests[1]!.cancelled, true);
  events.push(...await drain(rest));
  assert.equal(events.at(-1)?.type, "cancelled");
  assert.equal(fake.requests.length, 2, "no request after the cancel");
});

Deno.test("a cancelled run's tool stops before its next write", async () => {
  const listing = Promise.withResolvers<void>();
  const resume = Promise.withResolvers<void>();
  const toolDone = Promise.withResolvers<"stopped" | "wrote">();
  let inTool = false;
  await using server = await startCustomServer({}, {
    patchStores: (stores) => {
      const list = stores.memories.list.bind(stores.memories);
      const add = stores.memories.add.bind(stores.memories);
      // save_memory first lists the memories (to skip a duplicate): hold it
      // there until the run is cancelled, then see whether it goes on to write.
      stores.memories.list = async (projectId) => {
        const memories = await list(projectId);
        if (inTool) {
          listing.resolve();
          await resume.promise;
          // The tool's next await: had it gone on, add() would have run by now.
          queueMicrotask(() => setTimeout(() => toolDone.resolve("stopped"), 0));
        }
        return memories;
      };
      stores.memories.add = async (projectId, fields) => {
        toolDone.resolve("wrote");
        return await add(projectId, fields);
      };
    },
    engine: new TestEngine({
      pace: (step) => {
        if (step === "execution") inTool = true;
        return Promise.resolve();
      },
    }),
  });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that tools listen too");
  await within("the tool to start", listing.promise);
  const cancel = await call<{ status: string; run: RunRecord }>(`${server.url}${run.cancelUrl}`, {
    method: "POST",
  });
  assert.equal(cancel.body.status, "cancelled");
  assert.equal(cancel.body.run.error?.step, "execution");
  resume.resolve();
  assert.equal(await within("the tool to stop or write", toolDone.promise), "stopped");
  const memories = await call<unknown[]>(`${server.url}/api/projects/${project.id}/memories`);
  assert.deepEqual(memories.body, [], "the tool saved nothing");
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.status]), [["user", "cancelled"]]);
  assert.equal((await runRecord(server.url, project.id, run.runId)).status, "cancelled");
});
