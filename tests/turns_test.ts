import assert from "node:assert/strict";
import { Turns } from "../lib/turns.ts";

Deno.test("turns: work on a shared key waits its turn, other keys run at once, a failure frees the key", async () => {
  const turns = new Turns();
  const log: string[] = [];
  const gate = Promise.withResolvers<void>();
  const first = turns.run(["a", "b"], async () => {
    log.push("ab start");
    await gate.promise;
    log.push("ab end");
  });
  const second = turns.run(["b"], () => Promise.resolve(void log.push("b")));
  const other = turns.run(["c"], () => Promise.resolve(void log.push("c")));
  await other;
  assert.deepEqual(log, ["ab start", "c"], "c does not wait; b waits for the work holding b");
  gate.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(log, ["ab start", "c", "ab end", "b"]);

  await assert.rejects(turns.run(["a"], () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(
    await turns.run(["a"], () => Promise.resolve("next")),
    "next",
    "a failure does not block the key",
  );
  assert.equal(turns.size, 0, "nothing is held once all work has settled");
});

Deno.test("turns: settled waits for all work, failed work too, and work begun while it waits", async () => {
  const turns = new Turns();
  const done: string[] = [];
  const gate = Promise.withResolvers<void>();
  turns.run(["a"], async () => {
    await gate.promise;
    done.push("a");
  });
  turns.run(["b"], () => Promise.reject(new Error("boom"))).catch(() => done.push("b failed"));
  turns.run(["a"], () => Promise.resolve(void done.push("a again")));
  const settled = turns.settled().then(() => done.push("settled"));
  await Promise.resolve();
  const later = Promise.withResolvers<void>();
  turns.run(["c"], async () => {
    await later.promise;
    done.push("c");
  });
  gate.resolve();
  setTimeout(() => later.resolve(), 20);
  await settled;
  assert.equal(done.at(-1), "settled", done.join(", "));
  assert.ok(done.includes("a") && done.includes("a again") && done.includes("c"), done.join(", "));
  assert.equal(turns.size, 0);
});
