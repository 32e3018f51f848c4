import assert from "node:assert/strict";
import { createStores, type Stores } from "../lib/store/mod.ts";
import { countEdit } from "../lib/store/messages.ts";
import { commitStart } from "../lib/runs/announce.ts";
import type { Project, RunRecord } from "../lib/protocol.ts";
import { exportProject, importProject } from "../lib/ops/portable.ts";

/** Two instances' stores over one KV, and counts of the lists and reads of several keys made on it. */
async function twoInstances(): Promise<
  { a: Stores; b: Stores; lists: () => number; reads: () => number; [Symbol.dispose](): void }
> {
  const kv = await Deno.openKv(":memory:");
  let lists = 0;
  let reads = 0;
  const list = kv.list.bind(kv);
  kv.list = ((...args: Parameters<Deno.Kv["list"]>) => {
    lists++;
    return list(...args);
  }) as Deno.Kv["list"];
  const getMany = kv.getMany.bind(kv);
  kv.getMany = ((...args: Parameters<Deno.Kv["getMany"]>) => {
    reads++;
    return getMany(...args);
  }) as Deno.Kv["getMany"];
  return {
    a: createStores(kv),
    b: createStores(kv),
    lists: () => lists,
    reads: () => reads,
    [Symbol.dispose]: () => kv.close(),
  };
}

let runs = 0;

/** Starts a run in `project` as `stores`' instance would (its start commit); true once committed. */
function start(stores: Stores, project: Project, content: string): Promise<boolean> {
  const runId = `r${++runs}`;
  const message = stores.messages.build({ role: "user", content, runId });
  const record = { id: runId, projectId: project.id, owner: "a", message: content } as RunRecord;
  return commitStart(stores, record, message);
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

Deno.test("recent context: a run's start commit checks the copy, so its context step reads nothing from KV", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  await w.a.memories.add(project.id, { text: "Tea is at four", source: "user" });
  await w.a.context.read(project.id, 41);
  const [lists, reads] = [w.lists(), w.reads()];
  assert.ok(await start(w.a, project, "hello"));
  const context = await w.a.context.read(project.id, 41);
  assert.deepEqual(texts(context.messages), ["hello"]);
  assert.deepEqual(context.memories.map((m) => m.text), ["Tea is at four"]);
  assert.deepEqual([w.lists(), w.reads()], [lists, reads], "the context was read from KV");
  await w.a.context.read(project.id, 41);
  assert.equal(w.reads(), reads + 1, "a read that no start vouches for checks KV again");
});

Deno.test("recent context: this instance's own memory changes keep the copy current for the next start", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  await w.a.context.read(project.id, 41);
  const tea = await w.a.memories.add(project.id, { text: "Tea is at four", source: "user" });
  await w.a.memories.add(project.id, { text: "The launch is on May 3", source: "user" });
  await w.a.memories.delete(project.id, tea.id);
  const [lists, reads] = [w.lists(), w.reads()];
  assert.ok(await start(w.a, project, "hello"), "the start's checks failed");
  const context = await w.a.context.read(project.id, 41);
  assert.equal(w.reads(), reads, "the context was checked against KV");
  assert.deepEqual(context.memories, await w.a.memories.list(project.id));
  assert.deepEqual(context.memories.map((m) => m.text), ["The launch is on May 3"]);
  assert.equal(w.lists() - 1, lists, "listed more than the check above");
  // A read that no start vouches for checks the memory count: the copy moved on with it, so nothing is listed.
  assert.deepEqual((await w.a.context.read(project.id, 41)).memories, context.memories);
  assert.equal(w.lists() - 1, lists, "the memories were listed again");
});

Deno.test("recent context: another instance's memory, edit or message between two starts is seen by the next run", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  await w.a.context.read(project.id, 41);
  assert.ok(await start(w.a, project, "one"));
  await w.a.context.read(project.id, 41);

  // A memory moves the feed's head too: the start's append finds it moved, and goes again without checks.
  await w.b.memories.add(project.id, { text: "Tea is at four", source: "user" });
  assert.ok(await start(w.a, project, "two"));
  assert.deepEqual((await w.a.context.read(project.id, 41)).memories.map((m) => m.text), ["Tea is at four"]);
  await w.a.context.read(project.id, 41);

  // An edit does not: the start's check of the edit count fails, and the next try goes without it.
  const [first] = (await w.a.context.read(project.id, 41)).messages;
  await w.b.messages.mark(project.id, first!.id, "cancelled");
  assert.equal(await start(w.a, project, "three"), false);
  assert.ok(await start(w.a, project, "three"));
  assert.equal((await w.a.context.read(project.id, 41)).messages[0]?.status, "cancelled");

  // Another instance's append moves the feed's head: the start's own check of it catches that.
  await w.b.messages.add(project.id, { role: "assistant", content: "from b", runId: null });
  assert.ok(await start(w.a, project, "four"));
  assert.deepEqual(texts((await w.a.context.read(project.id, 41)).messages), [
    "one",
    "two",
    "three",
    "from b",
    "four",
  ]);
});

Deno.test("recent context: a start that does not go through leaves no run a copy to take unread", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  const first = await w.a.messages.add(project.id, { role: "user", content: "one", runId: null });
  await w.a.context.read(project.id, 41);
  assert.ok(await start(w.a, project, "r0")); // a run whose context step is still to come
  await w.b.messages.mark(project.id, first.id, "cancelled");
  assert.equal(await start(w.a, project, "r1"), false, "the edit count's check passed");
  // r0's context step: the failed check showed the copy stale, so it is read anew.
  assert.equal((await w.a.context.read(project.id, 41)).messages[0]?.status, "cancelled");
});

Deno.test("recent context: a project deleted and imported again under its id is read anew", async () => {
  using w = await twoInstances();
  const project = await w.a.projects.create("Demo");
  const backup = (await exportProject(w.a.kv, project.id))!;
  await w.a.memories.add(project.id, { text: "A fact of the deleted project", source: "user" });
  await w.a.context.read(project.id, 41);
  await w.a.projects.delete(project.id);
  await importProject(w.a.kv, backup, { keepIds: true });
  await w.a.projects.get(project.id);
  assert.ok(await start(w.a, project, "hello"));
  assert.deepEqual((await w.a.context.read(project.id, 41)).memories, []);
});
