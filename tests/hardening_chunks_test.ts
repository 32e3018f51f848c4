/**
 * The pieces under issue 13's "every stored value fits KV's limits": values
 * kept in parts (lib/store/chunks.ts) and outputs cut to a size with their
 * shape kept (lib/agent/cut_output.ts).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { cutToFit } from "../lib/agent/cut_output.ts";
import { fitsOneValue, readText, restoreSpilled, spillIfLarge, writeText } from "../lib/store/chunks.ts";
import { createStores } from "../lib/store/mod.ts";
import { testSeed } from "./helpers.ts";

Deno.test("a text of 2 MB in two-byte characters is written over several commits and read back whole", async () => {
  using kv = await Deno.openKv(":memory:");
  // 1M characters outside Latin-1: V8 stores them as UTF-16, 2 MB, far more than one commit holds.
  const text = "日本語のテキスト".repeat(125_000);
  const parts = await writeText(kv, ["outputs", "p", "r", 0], text);
  assert.equal(parts, 63);
  assert.equal(await readText(kv, ["outputs", "p", "r", 0]), text);
  assert.equal(await readText(kv, ["outputs", "p", "r", 1]), null, "another owner has no parts");
});

Deno.test("a record is kept in one value while it fits, in parts once it does not", async () => {
  using kv = await Deno.openKv(":memory:");
  // 25,000 two-byte characters: 25 KB of JSON, but 50 KB as V8 stores it; 35,000 would be 70 KB.
  for (const [chars, spills] of [[25_000, false], [35_000, true]] as const) {
    const key = ["messages", "p", `m${chars}`];
    const record = { id: `m${chars}`, content: "é日".repeat(chars / 2) };
    assert.equal(fitsOneValue(record), !spills);
    const stored = await spillIfLarge(kv, key, record, "content");
    assert.equal("spilled" in stored, spills);
    await kv.set(key, stored); // KV refuses a value over 64 KiB: this must not throw
    const back = await restoreSpilled(kv, key, (await kv.get<typeof record>(key)).value!);
    assert.deepEqual(back, record);
  }
});

Deno.test("a shorter text written over a longer one reads back as the shorter one", async () => {
  using kv = await Deno.openKv(":memory:");
  const key = ["runs", "p", "r"];
  await kv.set(key, await spillIfLarge(kv, key, { id: "r", result: "a".repeat(100_000) }, "result"));
  await kv.set(key, await spillIfLarge(kv, key, { id: "r", result: "b".repeat(70_000) }, "result"));
  const back = await restoreSpilled(kv, key, (await kv.get<{ id: string; result: string }>(key)).value!);
  assert.equal(back.result, "b".repeat(70_000));
});

Deno.test("a memory store past its bound refuses and writes nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const { memories } = createStores(kv, {
    maxMemories: 1,
    maxMemoryChars: 10,
    maxAnswerChars: 0,
    maxToolOutputChars: 0,
    maxRunMs: 0,
  });
  await assert.rejects(memories.add("p", { text: "x".repeat(11), source: "user" }), {
    code: "memory_too_long",
  });
  const first = await memories.add("p", { text: "Tea at 4", source: "user", subject: "tea" });
  await assert.rejects(memories.add("p", { text: "Coffee", source: "user" }), { code: "too_many_memories" });
  // Replacing the one current memory keeps the count at one: allowed.
  await memories.add("p", { text: "Tea at 5", source: "user", subject: "tea" }, [first.id]);
  assert.deepEqual((await memories.list("p")).map((m) => m.text), ["Tea at 5"]);
  assert.equal((await memories.list("p", { history: true })).length, 2);
});

Deno.test("cutToFit: any JSON value comes back within its budget, well-formed, and whole when it fits", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 400 }), (value, budget) => {
      const cut = cutToFit(value, budget);
      const json = JSON.stringify(value);
      if (json.length <= budget) {
        assert.deepEqual(cut, value);
        return;
      }
      if (cut === undefined) return;
      const out = JSON.stringify(cut);
      assert.ok(out.length <= budget, `${out.length} > ${budget}`);
      assert.ok(out.isWellFormed());
      // The same kind of value: a list stays a list, an object an object.
      assert.equal(Array.isArray(cut), Array.isArray(value));
      assert.equal(typeof cut, typeof value);
    }),
    { seed: testSeed(), numRuns: 500 },
  );
});

Deno.test("cutToFit keeps a list's first items and the small fields beside it", () => {
  const output = {
    memories: Array.from({ length: 100 }, (_, i) => ({ id: `m${i}`, text: `Fact ${i} `.repeat(20) })),
    messageCount: 12,
    recent: ["When is the launch?"],
  };
  const cut = cutToFit(output, 2_000) as typeof output;
  assert.deepEqual(Object.keys(cut), ["memories", "messageCount", "recent"]);
  assert.equal(cut.messageCount, 12);
  assert.deepEqual(cut.recent, ["When is the launch?"]);
  assert.deepEqual(cut.memories.slice(0, 3).map((m) => m.id), ["m0", "m1", "m2"]);
  assert.ok(JSON.stringify(cut).length <= 2_000);
  // Every item kept has all its fields: a memory is never left without its text (the local engine reads it).
  assert.ok(cut.memories.every((m) => typeof m.id === "string" && typeof m.text === "string"));
  // The first item alone is cut inside its text, its fields kept, when not one fits whole.
  const one = cutToFit({ memories: [{ id: "m0", text: "x".repeat(5_000) }] }, 300) as typeof output;
  assert.deepEqual(Object.keys(one.memories[0]!), ["id", "text"]);
  assert.ok(one.memories[0]!.text.endsWith("…"));
  // A string is cut on a character boundary, marked with an ellipsis.
  assert.equal(cutToFit("😀😀😀😀", 8), "😀😀…");
});

Deno.test("a stopped run's long reply is removed with its parts", async () => {
  using kv = await Deno.openKv(":memory:");
  const { messages } = createStores(kv);
  const user = await messages.add("p", { role: "user", content: "Tell me everything", runId: "r1" });
  await messages.add("p", { role: "assistant", content: "word ".repeat(40_000), runId: "r1" });
  const stray = await messages.repliesOf("p", user.id, "r1");
  assert.equal(stray.length, 1 + 13, "the reply and its 13 parts");
  const op = kv.atomic();
  for (const key of stray) op.delete(key);
  await op.commit();
  assert.deepEqual((await messages.list("p")).map((m) => m.role), ["user"]);
  assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["parts"] })), []);
});
