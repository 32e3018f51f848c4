/**
 * Issue 13, bounds: `LANTERN_MAX_MEMORIES` holds under concurrency. The
 * count is checked atomically with the write, so adds racing at the bound
 * (in one process, or from two stores as two instances would) cannot both
 * pass.
 *
 * On the main of before this work, every add counted before any committed:
 * 20 adds one below the bound all succeeded.
 */

import assert from "node:assert/strict";
import { BoundExceeded, DEFAULT_BOUNDS } from "../lib/store/bounds.ts";
import { memoryCountKey, MemoryStore } from "../lib/store/memories.ts";
import { createStores } from "../lib/store/mod.ts";
import { call, createProject } from "./helpers.ts";
import { startCustomServer } from "./runs_helpers.ts";

const BOUNDS = { maxMemories: 5, maxMemoryChars: 4000 };

/** A project one memory below the bound. */
async function nearlyFull(kv: Deno.Kv): Promise<string> {
  const memories = new MemoryStore(kv, BOUNDS);
  for (let i = 0; i < 4; i++) await memories.add("p1", { text: `Fact ${i}`, source: "user" });
  return "p1";
}

function outcome(settled: PromiseSettledResult<unknown>[]) {
  const refused = settled.filter((s) => s.status === "rejected");
  for (const r of refused) {
    assert.ok(r.reason instanceof BoundExceeded, `refused with ${r.reason}`);
    assert.equal(r.reason.code, "too_many_memories");
  }
  return { saved: settled.length - refused.length, refused: refused.length };
}

Deno.test("20 adds racing at LANTERN_MAX_MEMORIES: exactly one is saved, the others are refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const project = await nearlyFull(kv);
    const memories = new MemoryStore(kv, BOUNDS);
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => memories.add(project, { text: `Racer ${i}`, source: "user" })),
    );
    assert.deepEqual(outcome(settled), { saved: 1, refused: 19 });
    assert.equal((await memories.list(project)).length, 5);
  } finally {
    kv.close();
  }
});

Deno.test("adds from two stores over one KV (two instances) cannot pass the bound together", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const project = await nearlyFull(kv);
    // Each store has its own feed lock, as two server processes would.
    const a = new MemoryStore(kv, BOUNDS);
    const b = new MemoryStore(kv, BOUNDS);
    const settled = await Promise.allSettled(
      Array.from(
        { length: 10 },
        (_, i) => (i % 2 ? a : b).add(project, { text: `Racer ${i}`, source: "user" }),
      ),
    );
    assert.deepEqual(outcome(settled), { saved: 1, refused: 9 });
    assert.equal((await a.list(project)).length, 5);
  } finally {
    kv.close();
  }
});

Deno.test("at the bound, racing facts that replace the same memory: one replaces it, the other is refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const memories = new MemoryStore(kv, BOUNDS);
    const old = await memories.add("p1", { text: "The demo is on Friday", source: "user", subject: "demo" });
    for (let i = 0; i < 4; i++) await memories.add("p1", { text: `Fact ${i}`, source: "user" });
    const settled = await Promise.allSettled(
      ["Monday", "Tuesday"].map((day) =>
        memories.add("p1", { text: `The demo moved to ${day}`, source: "user", subject: "demo" }, [old.id])
      ),
    );
    assert.deepEqual(outcome(settled), { saved: 1, refused: 1 });
    const current = await memories.list("p1");
    assert.equal(current.length, 5);
    assert.equal(current.filter((m) => m.text.startsWith("The demo")).length, 1);
    // A forget makes room again, and the count goes down with it.
    await memories.delete("p1", current[0]!.id);
    await memories.add("p1", { text: "Room again", source: "user" });
    assert.equal((await memories.list("p1")).length, 5);
  } finally {
    kv.close();
  }
});

Deno.test("concurrent POSTs of memories at the bound: one 201, the rest 409, and deleting the project leaves no count", async () => {
  await using server = await startCustomServer({ LANTERN_MAX_MEMORIES: "3" });
  const project = await createProject(server.url);
  const base = `${server.url}/api/projects/${project.id}/memories`;
  for (const text of ["One", "Two"]) assert.equal((await call(base, { body: { text } })).status, 201);
  const answers = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) => call<{ error?: { code: string } }>(base, { body: { text: `R${i}` } }),
    ),
  );
  assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
  assert.ok(answers.filter((a) => a.status === 409).every((a) => a.body.error?.code === "too_many_memories"));
  assert.equal((await call<unknown[]>(base)).body.length, 3);
  assert.notEqual((await server.stores.kv.get(["memory_count", project.id])).value, null);
  assert.equal((await call(`${server.url}/api/projects/${project.id}`, { method: "DELETE" })).status, 200);
  assert.equal((await server.stores.kv.get(["memory_count", project.id])).value, null);
});

// The stores' factory passes the configured bound through.
Deno.test("createStores gives the memory store its bound", async () => {
  const stores = createStores(await Deno.openKv(":memory:"), { ...DEFAULT_BOUNDS, maxMemories: 1 });
  try {
    await stores.memories.add("p1", { text: "Only", source: "user" });
    await assert.rejects(stores.memories.add("p1", { text: "Two", source: "user" }), BoundExceeded);
  } finally {
    stores.kv.close();
  }
});

Deno.test("the kept count follows adds, replacements and forgets, and a project without one is counted once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const memories = new MemoryStore(kv, BOUNDS);
    const stored = async () => (await kv.get<number>(memoryCountKey("p1"))).value;
    const old = await memories.add("p1", { text: "The demo is on Friday", source: "user", subject: "demo" });
    const a = await memories.add("p1", { text: "Tea is at 4", source: "user" });
    await memories.add("p1", { text: "The demo moved to Monday", source: "user", subject: "demo" }, [old.id]);
    assert.equal(await stored(), 2, "a replacement does not add one");
    // Forgetting a superseded one (history) changes nothing; forgetting a current one takes one off.
    assert.notEqual(await memories.delete("p1", old.id), null);
    assert.equal(await stored(), 2);
    await memories.delete("p1", a.id);
    assert.equal(await stored(), 1);
    assert.equal(await memories.delete("p1", a.id), null, "a second forget finds nothing");
    assert.equal(await stored(), 1);
    // A project from before the count (or imported) has none: the next write counts and stores it.
    await kv.delete(memoryCountKey("p1"));
    for (let i = 0; i < 4; i++) await memories.add("p1", { text: `Fact ${i}`, source: "user" });
    assert.equal(await stored(), 5);
    await assert.rejects(memories.add("p1", { text: "One too many", source: "user" }), BoundExceeded);
    assert.equal((await memories.list("p1")).length, 5);
  } finally {
    kv.close();
  }
});
