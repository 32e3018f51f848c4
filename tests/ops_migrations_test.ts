/**
 * Upgrades keep data: a KV file written by main at 2dcb3ec
 * (`tests/fixtures/kv_v0.kv`, made by `tests/fixtures/make_kv_v0.ts`) opens
 * with the current code, is migrated, and works: lists, reads, replays and a
 * new run. And the migration runner itself: ordered, idempotent, resumable,
 * refusing a newer schema.
 */

import assert from "node:assert/strict";
import { CURRENT_SCHEMA, migrate, type Migration, SCHEMA_KEY, schemaVersion } from "../lib/ops/migrations.ts";
import type { Memory, Message, Project, RunRecord } from "../lib/protocol.ts";
import { call, chatStream, collectRunEvents, startServer } from "./helpers.ts";

const FIXTURE = new URL("./fixtures/kv_v0.kv", import.meta.url);

async function copyOfFixture(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "lantern-migrate-" });
  const path = `${dir}/lantern.kv`;
  await Deno.copyFile(FIXTURE, path);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}) };
}

Deno.test("migrations: a KV file from main at 2dcb3ec opens, migrates and works", async () => {
  await using copy = await copyOfFixture();
  {
    await using server = await startServer({ LANTERN_KV_PATH: copy.path });
    const { migrations } = server.lantern;
    assert.equal(migrations.from, 0, "the fixture predates schema versions");
    assert.equal(migrations.to, CURRENT_SCHEMA);
    assert.equal(migrations.applied.length, CURRENT_SCHEMA);

    const projects = (await call<Project[]>(`${server.url}/api/projects`)).body;
    assert.deepEqual(projects.map((p) => p.name).sort(), ["Empty one", "Launch plan"]);
    const project = projects.find((p) => p.name === "Launch plan")!;
    const base = `${server.url}/api/projects/${project.id}`;

    const messages = (await call<Message[]>(`${base}/messages`)).body;
    assert.equal(messages.length, 11);
    assert.equal(messages[0]?.content, "Remember that the launch is on May 3");
    assert.equal(messages.filter((m) => m.role === "assistant").length, 5);
    assert.equal(messages.at(-1)?.status, "cancelled", "the stopped run's message keeps its mark");

    const memories = (await call<Memory[]>(`${base}/memories`)).body;
    assert.deepEqual(memories.map((m) => m.text).sort(), ["The budget is 12k", "The launch is on May 3"]);

    const runs = (await call<RunRecord[]>(`${base}/runs`)).body;
    assert.deepEqual(runs.map((r) => r.status), ["cancelled", ...Array(5).fill("succeeded")]);
    // An old run's log still replays, ending with its result.
    const old = runs.at(-1)!;
    const replay = await collectRunEvents(await fetch(`${base}/runs/${old.id}/events`));
    assert.equal(replay.length, old.lastSeq);
    assert.equal(replay.at(-1)?.type, "result");

    // A new run reads the old memories and writes next to the old data.
    const events = await collectRunEvents(await chatStream(server.url, project.id, "When is the launch?"));
    const result = events.at(-1);
    assert.equal(result?.type, "result");
    assert.match(result.result.message, /May 3/);
    assert.equal((await call<Message[]>(`${base}/messages`)).body.length, 13);
  }
  {
    // Opening it again migrates nothing: the version is stored.
    await using server = await startServer({ LANTERN_KV_PATH: copy.path });
    assert.deepEqual(server.lantern.migrations, { from: CURRENT_SCHEMA, to: CURRENT_SCHEMA, applied: [] });
    assert.equal((await call<Project[]>(`${server.url}/api/projects`)).body.length, 2);
  }
});

Deno.test("migrations: run in order, once each, and resume after a failure", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const ran: number[] = [];
    let failTwo = true;
    const list: Migration[] = [1, 2, 3].map((version) => ({
      version,
      name: `step ${version}`,
      up: async (db) => {
        if (version === 2 && failTwo) throw new Error("disk full");
        ran.push(version);
        await db.set(["done", version], true);
      },
    }));
    await assert.rejects(migrate(kv, list), /disk full/);
    assert.equal(await schemaVersion(kv), 1, "the version records what finished");
    failTwo = false;
    const report = await migrate(kv, list);
    assert.deepEqual(report, { from: 1, to: 3, applied: ["2: step 2", "3: step 3"] });
    assert.deepEqual(ran, [1, 2, 3]);
    assert.deepEqual((await migrate(kv, list)).applied, []);
    assert.deepEqual(ran, [1, 2, 3], "nothing runs twice once recorded");
  } finally {
    kv.close();
  }
});

Deno.test("migrations: a KV from a newer Lantern is refused at start-up, untouched", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(SCHEMA_KEY, { version: CURRENT_SCHEMA + 1, migratedAt: "2030-01-01T00:00:00.000Z" });
    await assert.rejects(migrate(kv), (error: Error) => {
      assert.match(error.message, new RegExp(`schema version ${CURRENT_SCHEMA + 1}, newer than`));
      return true;
    });
    assert.equal(await schemaVersion(kv), CURRENT_SCHEMA + 1);
    const badOrder: Migration[] = [{ version: 2, name: "x", up: () => Promise.resolve() }];
    await assert.rejects(migrate(kv, badOrder), /numbered 1, 2, 3/);
  } finally {
    kv.close();
  }
});
