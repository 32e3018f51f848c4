import assert from "node:assert/strict";
import { groupCommits } from "../lib/store/group_commit.ts";
import { FeedLog, feedScopes } from "../lib/feeds/feed_log.ts";
import { countingKv } from "./helpers.ts";

Deno.test("group commit: operations sent together share one commit, and each is written whole", async () => {
  const { kv, commits } = await countingKv();
  const group = groupCommits(kv);
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, (_, i) => group.atomic().set(["a", i], i).set(["b", i], -i).commit()),
  );
  assert.ok(outcomes.every((o) => o.ok));
  assert.equal(new Set(outcomes.map((o) => o.ok && o.versionstamp)).size, 1, "one versionstamp: one commit");
  assert.equal(commits(), 1);
  const values = [];
  for await (const entry of kv.list<number>({ prefix: ["b"] })) values.push(entry.value);
  assert.deepEqual(values, Array.from({ length: 20 }, (_, i) => -i));
  kv.close();
});

Deno.test("group commit: a failing check fails its own operation only, and writes none of it", async () => {
  const kv = await Deno.openKv(":memory:");
  await kv.set(["taken"], "someone");
  const group = groupCommits(kv);
  const [good, bad, other] = await Promise.all([
    group.atomic().set(["good"], 1).commit(),
    group.atomic().check({ key: ["taken"], versionstamp: null }).set(["taken"], "me").set(["side"], 1)
      .commit(),
    group.atomic().sum(["count"], 2n).commit(),
  ]);
  assert.equal(good.ok, true);
  assert.equal(bad.ok, false);
  assert.equal(other.ok, true);
  assert.equal((await kv.get(["good"])).value, 1);
  assert.equal((await kv.get(["taken"])).value, "someone", "the failed operation changed nothing");
  assert.equal((await kv.get(["side"])).value, null);
  assert.equal((await kv.get<Deno.KvU64>(["count"])).value?.value, 2n);
  kv.close();
});

Deno.test("group commit: a value KV refuses rejects its own commit; the others are written", async () => {
  const kv = await Deno.openKv(":memory:");
  const group = groupCommits(kv);
  const [small, large] = await Promise.allSettled([
    group.atomic().set(["small"], "ok").commit(),
    group.atomic().set(["large"], "x".repeat(70_000)).commit(),
  ]);
  assert.equal(small.status === "fulfilled" && small.value.ok, true);
  assert.equal(large.status, "rejected");
  assert.equal((await kv.get(["small"])).value, "ok");
  assert.equal((await kv.get(["large"])).value, null);
  kv.close();
});

Deno.test("group commit: a value KV cannot store rejects its own commit; the others are written and the group goes on", async () => {
  const kv = await Deno.openKv(":memory:");
  const group = groupCommits(kv);
  const [good, bad] = await Promise.allSettled([
    group.atomic().set(["good"], 1).commit(),
    group.atomic().set(["bad"], () => "a function is not storable").commit(),
  ]);
  assert.equal(good.status === "fulfilled" && good.value.ok, true);
  assert.equal(bad.status, "rejected");
  assert.equal((await kv.get(["good"])).value, 1);
  assert.equal((await group.atomic().set(["after"], 2).commit()).ok, true, "later commits still go out");
  await group.caughtUp();
  kv.close();
});

Deno.test("group commit: two operations on one key commit one after the other, so a check sees the first write", async () => {
  const kv = await Deno.openKv(":memory:");
  const group = groupCommits(kv);
  const claim = (who: string) =>
    group.atomic().check({ key: ["owner"], versionstamp: null }).set(["owner"], who).commit();
  const [first, second] = await Promise.all([claim("a"), claim("b")]);
  assert.equal(first.ok, true);
  assert.equal(second.ok, false, "merged into one commit, both checks would have passed");
  assert.equal((await kv.get(["owner"])).value, "a");
  kv.close();
});

Deno.test("group commit: appends to many projects' feeds at once share commits and keep each feed numbered", async () => {
  const { kv, commits } = await countingKv();
  const log = new FeedLog(kv);
  const scopes = Array.from({ length: 30 }, (_, i) => feedScopes.project(`p${i}`));
  const append = (scope: string) =>
    log.commit([{ scope, changes: [{ type: "run.ended", runId: "r", status: "succeeded" }] }]);
  await Promise.all(scopes.map(append));
  await Promise.all(scopes.map(append));
  assert.ok(commits() < 30, `60 appends took ${commits()} commits`);
  for (const scope of scopes) {
    assert.deepEqual((await log.read(scope, 0)).map((e) => e.seq), [1, 2]);
  }
  kv.close();
});

Deno.test("group commit: caughtUp resolves once every operation sent before it has settled, a refused one too", async () => {
  const kv = await Deno.openKv(":memory:");
  const group = groupCommits(kv);
  await group.caughtUp(); // nothing sent: at once
  const settled: string[] = [];
  const note = (name: string) => (outcome: unknown) => (settled.push(name), outcome);
  const sent = [
    group.atomic().set(["one"], 1).commit().then(note("one")),
    group.atomic().set(["large"], "x".repeat(70_000)).commit().then(note("large"), note("large")),
    // On the same key as the first: it goes in a commit of its own, after it.
    group.atomic().set(["one"], 2).commit().then(note("again")),
  ];
  await group.caughtUp().then(() => settled.push("caught up"));
  const later = group.atomic().set(["later"], 1).commit().then(note("later"));
  assert.deepEqual(settled.toSorted(), ["again", "caught up", "large", "one"]);
  assert.equal(settled.at(-1), "caught up");
  await Promise.all([...sent, later]);
  assert.equal((await kv.get(["one"])).value, 2);
  kv.close();
});

Deno.test("group commit: caughtUp waits for an operation left for a later commit, even when newer ones went first", async () => {
  const kv = await Deno.openKv(":memory:");
  const group = groupCommits(kv);
  const order: string[] = [];
  const note = (name: string) => () => order.push(name);
  const first = group.atomic().set(["k"], 1).commit().then(note("first"));
  // On the first one's key: it waits for the next commit.
  const second = group.atomic().set(["k"], 2).commit().then(note("second"));
  const caught = group.caughtUp().then(note("caught up"));
  // Sent after the call, on another key: it goes in the first commit, before the second.
  const later = group.atomic().set(["x"], 1).commit().then(note("later"));
  await Promise.all([first, second, caught, later]);
  assert.ok(order.indexOf("caught up") > order.indexOf("second"), order.join(", "));
  kv.close();
});
