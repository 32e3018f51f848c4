/**
 * Ids cannot be guessed, and a run, memory or message of one project cannot
 * be read, followed, cancelled or deleted through another project's path.
 */

import assert from "node:assert/strict";
import { isId, newId } from "../lib/ids.ts";
import type { Memory, Message, RunRecord, RunStarted } from "../lib/protocol.ts";
import { call, createProject, startServer } from "./helpers.ts";

Deno.test("ids are 37 base-36 characters, unique, sort in creation order, and end in 25 random digits", () => {
  const ids = Array.from({ length: 10_000 }, () => newId());
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  for (const id of ids) assert.ok(isId(id), id);
  assert.equal(isId("nope"), false);
  assert.equal(isId(ids[0]!.toUpperCase()), false);
  assert.equal(isId(`${ids[0]}x`), false);
  // Ids made in the same millisecond share their time but not their random part.
  const suffixes = ids.map((id) => id.slice(12));
  assert.equal(new Set(suffixes).size, ids.length);
  // The random part is 25 base-36 digits (129 bits), each uniform: in 10,000
  // ids every digit value turns up about 278 times at every position (a
  // biased or fixed position would show far from that).
  for (let position = 12; position < 37; position++) {
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id[position]!, (counts.get(id[position]!) ?? 0) + 1);
    const seen = [...counts.values()];
    assert.equal(counts.size, 36, `position ${position} used ${counts.size} of 36 digits`);
    assert.ok(
      Math.min(...seen) > 170 && Math.max(...seen) < 400,
      `position ${position}: each digit between ${Math.min(...seen)} and ${Math.max(...seen)} times`,
    );
  }
});

Deno.test("a run of project A cannot be read, followed or cancelled through project B", async () => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "150", LANTERN_MAX_RUNS_PER_PROJECT: "0" });
  const { url } = server;
  const a = await createProject(url, "A");
  const b = await createProject(url, "B");
  const finished = await call<{ runId: string }>(`${url}/api/projects/${a.id}/chat`, {
    body: { message: "Remember that A's secret is 42" },
  });
  assert.equal(finished.status, 200);
  const running = await call<RunStarted>(`${url}/api/projects/${a.id}/runs`, { body: { message: "Hello" } });
  assert.equal(running.status, 202);
  const memories = await call<Memory[]>(`${url}/api/projects/${a.id}/memories`);
  assert.equal(memories.body.length, 1);

  for (const runId of [finished.body.runId, running.body.runId]) {
    const through = `${url}/api/projects/${b.id}/runs/${runId}`;
    const read = await call(through);
    assert.equal(read.status, 404);
    assert.equal((read.body as { error: { code: string } }).error.code, "run_not_found");
    const events = await fetch(`${through}/events`);
    assert.equal(events.status, 404);
    assert.equal((await events.json()).error.code, "run_not_found");
    const resumed = await fetch(`${through}/events`, { headers: { "last-event-id": "1" } });
    assert.equal(resumed.status, 404);
    await resumed.body?.cancel();
    const cancel = await call(`${through}/cancel`, { method: "POST" });
    assert.equal(cancel.status, 404);
  }
  const stillRunning = await call<RunRecord>(`${url}/api/projects/${a.id}/runs/${running.body.runId}`);
  assert.equal(stillRunning.body.status, "running", "a cancel through B did not touch A's run");

  assert.deepEqual((await call<RunRecord[]>(`${url}/api/projects/${b.id}/runs`)).body, []);
  assert.deepEqual((await call<Message[]>(`${url}/api/projects/${b.id}/messages`)).body, []);
  assert.deepEqual((await call<Memory[]>(`${url}/api/projects/${b.id}/memories`)).body, []);
  const forget = await call(`${url}/api/projects/${b.id}/memories/${memories.body[0]!.id}`, {
    method: "DELETE",
  });
  assert.equal(forget.status, 404);
  assert.equal((await call<Memory[]>(`${url}/api/projects/${a.id}/memories`)).body.length, 1);
  const page = await fetch(`${url}/projects/${b.id}`);
  assert.doesNotMatch(await page.text(), /secret is 42/);

  // Through its own project, the run is there.
  const own = await call<RunRecord>(`${url}/api/projects/${a.id}/runs/${running.body.runId}/cancel`, {
    method: "POST",
  });
  assert.equal(own.status, 200);
});

Deno.test("a finished run kept only in KV is still scoped to its project", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lantern.kv`;
  try {
    let runId = "";
    let a = "";
    let b = "";
    {
      await using first = await startServer({ LANTERN_KV_PATH: path });
      a = (await createProject(first.url, "A")).id;
      b = (await createProject(first.url, "B")).id;
      const done = await call<{ runId: string }>(`${first.url}/api/projects/${a}/chat`, {
        body: { message: "Hi" },
      });
      runId = done.body.runId;
    }
    // A new instance over the same KV has nothing in memory: it reads the record and the log.
    await using second = await startServer({ LANTERN_KV_PATH: path });
    assert.equal((await call(`${second.url}/api/projects/${a}/runs/${runId}`)).status, 200);
    assert.equal((await call(`${second.url}/api/projects/${b}/runs/${runId}`)).status, 404);
    const events = await fetch(`${second.url}/api/projects/${b}/runs/${runId}/events`);
    await events.body?.cancel();
    assert.equal(events.status, 404);
    assert.equal(
      (await call(`${second.url}/api/projects/${b}/runs/${runId}/cancel`, { method: "POST" })).status,
      404,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
