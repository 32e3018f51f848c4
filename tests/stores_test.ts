/**
 * The KV stores on `:memory:`: projects, the conversation's order, memories,
 * and deleting a project with everything it holds (in batches).
 */

import assert from "node:assert/strict";
import { isId, newId } from "../lib/ids.ts";
import { createStores, deletePrefix, isoNow, listValues, openKv, type Stores } from "../lib/store/mod.ts";

async function stores(): Promise<Stores & Disposable> {
  const kv = await openKv(":memory:");
  return { ...createStores(kv), [Symbol.dispose]: () => kv.close() };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

Deno.test("ids keep their order when the clock steps back or one millisecond holds very many", () => {
  const realNow = Date.now;
  // In the past, so ids made after the test are later still.
  let clock = realNow() - 300_000;
  Date.now = () => clock;
  try {
    const ids = [newId(), newId()];
    clock -= 5_000;
    ids.push(newId(), newId());
    // More ids in one millisecond than the counter numbers (36 ** 3).
    for (let i = 0; i < 50_000; i++) ids.push(newId());
    clock += 100_000;
    ids.push(newId());
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.every(isId));
  } finally {
    Date.now = realNow;
  }
});

Deno.test("projects: create, get, list newest first, delete", async () => {
  using s = await stores();
  assert.deepEqual(await s.projects.list(), []);
  const a = await s.projects.create("Garden");
  const b = await s.projects.create("Rocket 🚀");
  assert.ok(isId(a.id));
  assert.match(a.createdAt, ISO);
  assert.deepEqual(Object.keys(a).sort(), ["createdAt", "id", "name"]);
  assert.deepEqual(await s.projects.get(a.id), a);
  assert.deepEqual(await s.projects.list(), [b, a]);
  assert.equal(await s.projects.get(newId()), null);
  assert.equal(await s.projects.delete(a.id), true);
  assert.equal(await s.projects.delete(a.id), false);
  assert.equal(await s.projects.get(a.id), null);
  assert.deepEqual(await s.projects.list(), [b]);
});

Deno.test("messages: oldest first, the latest N in order, per project, counted", async () => {
  using s = await stores();
  const p = await s.projects.create("P");
  const q = await s.projects.create("Q");
  const added = [];
  for (let i = 0; i < 30; i++) {
    added.push(
      await s.messages.add(p.id, {
        role: i % 2 ? "assistant" : "user",
        content: `m${i}`,
        runId: `r${i >> 1}`,
      }),
    );
  }
  await s.messages.add(q.id, { role: "user", content: "elsewhere", runId: null });
  const all = await s.messages.list(p.id);
  assert.deepEqual(all.map((m) => m.content), added.map((m) => m.content));
  assert.deepEqual(all, added);
  assert.deepEqual(Object.keys(all[0]!).sort(), ["content", "createdAt", "id", "role", "runId"]);
  assert.match(all[0]!.createdAt, ISO);
  assert.deepEqual((await s.messages.list(p.id, 3)).map((m) => m.content), ["m27", "m28", "m29"]);
  assert.deepEqual(await s.messages.count(p.id), { total: 30, user: 15 });
  assert.deepEqual((await s.messages.list(q.id)).map((m) => m.content), ["elsewhere"]);
  assert.deepEqual(await s.messages.list(newId()), []);
});

Deno.test("messages: mark sets a status on a message and ignores one that is gone", async () => {
  using s = await stores();
  const p = await s.projects.create("P");
  const m = await s.messages.add(p.id, { role: "user", content: "hi", runId: "r1" });
  await s.messages.mark(p.id, m.id, "cancelled");
  assert.deepEqual(await s.messages.list(p.id), [{ ...m, status: "cancelled" }]);
  await s.messages.mark(p.id, newId(), "failed");
  assert.equal((await s.messages.list(p.id)).length, 1);
});

Deno.test("memories: add, get, list oldest first, delete returns what it deleted", async () => {
  using s = await stores();
  const p = await s.projects.create("P");
  const a = await s.memories.add(p.id, { text: "The launch is on May 3", source: "user" });
  const b = await s.memories.add(p.id, { text: "Ana leads design", source: "agent", runId: "r1" });
  assert.deepEqual(Object.keys(a).sort(), ["createdAt", "id", "source", "text"]);
  assert.equal(b.runId, "r1");
  assert.deepEqual(await s.memories.list(p.id), [a, b]);
  assert.deepEqual(await s.memories.get(p.id, b.id), b);
  assert.deepEqual(await s.memories.delete(p.id, a.id), a);
  assert.equal(await s.memories.delete(p.id, a.id), null);
  assert.equal(await s.memories.get(p.id, a.id), null);
  assert.deepEqual(await s.memories.list(p.id), [b]);
  // Another project's memory is not reachable through this one.
  const q = await s.projects.create("Q");
  assert.equal(await s.memories.delete(q.id, b.id), null);
  assert.deepEqual(await s.memories.list(p.id), [b]);
});

Deno.test("deleting a project removes its messages, memories and runs (>1000 keys), and only its own", async () => {
  using s = await stores();
  const doomed = await s.projects.create("Doomed");
  const kept = await s.projects.create("Kept");
  // More keys than one atomic commit may hold, so deletion has to batch.
  const writes = [];
  for (let i = 0; i < 1300; i++) {
    writes.push(s.messages.add(doomed.id, { role: "user", content: `m${i}`, runId: null }));
    if (i < 1100) writes.push(s.memories.add(doomed.id, { text: `fact ${i}`, source: "user" }));
  }
  await Promise.all(writes);
  await s.kv.set(["runs", doomed.id, "r1"], { id: "r1" });
  const keptMessage = await s.messages.add(kept.id, { role: "user", content: "stay", runId: null });
  const keptMemory = await s.memories.add(kept.id, { text: "stay too", source: "user" });

  assert.equal((await s.messages.list(doomed.id)).length, 1300);
  assert.equal(await s.projects.delete(doomed.id), true);
  assert.equal(await s.projects.get(doomed.id), null);
  assert.deepEqual(await s.messages.list(doomed.id), []);
  assert.deepEqual(await s.memories.list(doomed.id), []);
  assert.deepEqual(await listValues(s.kv, ["runs", doomed.id]), []);
  assert.deepEqual(await s.messages.list(kept.id), [keptMessage]);
  assert.deepEqual(await s.memories.list(kept.id), [keptMemory]);
  assert.deepEqual(await s.projects.list(), [kept]);
});

Deno.test("deletePrefix counts what it deleted and leaves neighbouring prefixes alone", async () => {
  using s = await stores();
  for (let i = 0; i < 2501; i++) await s.kv.set(["x", "a", i], i);
  await s.kv.set(["x", "ab", 1], 1);
  await s.kv.set(["x"], 0);
  assert.equal(await deletePrefix(s.kv, ["x", "a"]), 2501);
  assert.equal(await deletePrefix(s.kv, ["x", "a"]), 0);
  assert.deepEqual(await listValues(s.kv, ["x"]), [1]);
  assert.equal((await s.kv.get(["x"])).value, 0);
});

Deno.test("listValues reads past one page, in order or reversed, with a limit", async () => {
  using s = await stores();
  for (let i = 0; i < 1200; i++) await s.kv.set(["n", i], i);
  const all = await listValues<number>(s.kv, ["n"]);
  assert.equal(all.length, 1200);
  assert.deepEqual(all.slice(0, 3), [0, 1, 2]);
  assert.deepEqual(await listValues(s.kv, ["n"], { reverse: true, limit: 3 }), [1199, 1198, 1197]);
});

Deno.test("openKv creates the folder of a file path and keeps data across opens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nested/deeper/lantern.kv`;
    {
      using kv = await openKv(path);
      await createStores(kv).projects.create("Persisted");
    }
    using kv = await openKv(path);
    assert.deepEqual((await createStores(kv).projects.list()).map((p) => p.name), ["Persisted"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isoNow() gives what toISOString gives, at every millisecond of a second and across seconds", () => {
  const realNow = Date.now;
  const start = Date.UTC(2026, 10, 30, 23, 59, 58, 990);
  try {
    for (let ms = start; ms < start + 2_100; ms += 7) {
      Date.now = () => ms;
      assert.equal(isoNow(), new Date(ms).toISOString());
    }
    for (const ms of [0, 999, 1_000, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 0, 1)]) {
      Date.now = () => ms;
      assert.equal(isoNow(), new Date(ms).toISOString());
    }
  } finally {
    Date.now = realNow;
  }
});
