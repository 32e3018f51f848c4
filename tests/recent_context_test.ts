import assert from "node:assert/strict";
import { createStores, type Stores } from "../lib/store/mod.ts";
import { countEdit } from "../lib/store/messages.ts";

/** Two instances' stores over one KV, and a count of the lists made on it. */
async function twoInstances(): Promise<
  { a: Stores; b: Stores; lists: () => number; [Symbol.dispose](): void }
> {
  const kv = await Deno.openKv(":memory:");
  let lists = 0;
  const list = kv.list.bind(kv);
  kv.list = ((...args: Parameters<Deno.Kv["list"]>) => {
    lists++;
    return list(...args);
  }) as Deno.Kv["list"];
  return {
    a: createStores(kv),
    b: createStores(kv),
    lists: () => lists,
    [Symbol.dispose]: () => kv.close(),
  };
}

const texts = (messages: { content: string }[]) => messages.map((m) => m.content);

Deno.test("recent context: this instance's own appends are read back without listing again", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  await w.a.messages.add(project.id, { role: "user", content: "one", runId: null });
  assert.deepEqual(texts((await w.a.context.read(project.id, 3)).messages), ["one"]);
  const listed = w.lists();
  await w.a.messages.add(project.id, { role: "assistant", content: "two", runId: null });
  await w.a.messages.add(project.id, { role: "user", content: "three", runId: null });
  await w.a.messages.add(project.id, { role: "user", content: "four", runId: null });
  assert.deepEqual(texts((await w.a.context.read(project.id, 3)).messages), ["two", "three", "four"]);
  assert.equal(w.lists(), listed, "no list: the copy followed the appends");
  assert.deepEqual(
    texts((await w.a.context.read(project.id, 5)).messages),
    ["one", "two", "three", "four"],
    "asking for more than the copy holds lists again",
  );
});

Deno.test("recent context: another instance's append, edit or memory is seen at the next read", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  const first = await w.a.messages.add(project.id, { role: "user", content: "one", runId: null });
  await w.a.context.read(project.id, 41);

  await w.b.messages.add(project.id, { role: "assistant", content: "from b", runId: null });
  assert.deepEqual(texts((await w.a.context.read(project.id, 41)).messages), ["one", "from b"]);

  await w.b.messages.mark(project.id, first.id, "cancelled");
  assert.equal((await w.a.context.read(project.id, 41)).messages[0]?.status, "cancelled");

  await w.b.memories.add(project.id, { text: "Tea is at four", source: "user" });
  assert.deepEqual((await w.a.context.read(project.id, 41)).memories.map((m) => m.text), ["Tea is at four"]);

  // An append by this instance after another's unseen one does not hide the other's.
  await w.b.messages.add(project.id, { role: "user", content: "b again", runId: null });
  await w.a.messages.add(project.id, { role: "user", content: "a again", runId: null });
  assert.deepEqual(
    texts((await w.a.context.read(project.id, 41)).messages),
    ["one", "from b", "b again", "a again"],
  );

  // A removed reply (a stopped run's stray answer) counts as an edit.
  const stray = await w.b.messages.add(project.id, { role: "assistant", content: "stray", runId: "r9" });
  await w.a.context.read(project.id, 41);
  await countEdit(w.b.kv.atomic().delete(w.b.messages.key(project.id, stray.id)), project.id).commit();
  assert.ok(!texts((await w.a.context.read(project.id, 41)).messages).includes("stray"));
});

Deno.test("recent context: a message too long for its feed change is read whole", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  await w.a.context.read(project.id, 41);
  const long = "word ".repeat(4_000);
  await w.a.messages.add(project.id, { role: "assistant", content: long, runId: null });
  assert.equal((await w.a.context.read(project.id, 41)).messages[0]?.content, long);
});
