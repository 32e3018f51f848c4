/**
 * The project feed (`GET /api/projects/:id/events`) and the project list's
 * feed (`GET /api/events`): what they carry, in which order, how they resume,
 * and what one instance holds for many viewers.
 */

import assert from "node:assert/strict";
import type { FeedEvent, Message, RunEvent } from "../lib/protocol.ts";
import { call, createProject, readEvents, spawnParallel, startServer, within } from "./helpers.ts";
import { RUNS_ENV, startRun, tempKvPath } from "./runs_helpers.ts";
import { FeedLog, feedScopes } from "../lib/feeds/feed_log.ts";
import { FeedHub } from "../lib/feeds/hub.ts";
import { FeedTopic } from "../lib/feeds/topic.ts";
import { RunFeed } from "../lib/runs/feed.ts";
import { createStores } from "../lib/store/mod.ts";
import { FEED_MESSAGE_CHARS } from "../lib/store/messages.ts";

type Wire = (FeedEvent | RunEvent) & { id: string };

/** Opens a feed; `after` is sent as Last-Event-ID. */
function openFeed(url: string, path: string, after?: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}${path}`, {
    headers: { accept: "text/event-stream", ...(after === undefined ? {} : { "last-event-id": after }) },
    signal,
  });
}

/** Reads a feed until `until` holds for an event (or the stream ends), then stops reading it. */
async function readFeed(res: Response, until: (e: Wire) => boolean, ms = 15_000): Promise<Wire[]> {
  const out: Wire[] = [];
  const reader = readEvents(res);
  await within(
    "the feed to reach the expected event",
    (async () => {
      for await (const message of reader) {
        const event = { ...JSON.parse(message.data), id: message.id! } as Wire;
        out.push(event);
        if (until(event)) break;
      }
    })(),
    ms,
  );
  await reader.return(undefined);
  await res.body?.cancel().catch(() => {});
  return out;
}

const ended = (runId: string) => (e: Wire) => e.type === "run.ended" && e.runId === runId;
const types = (events: Wire[]) => events.map((e) => e.type);

Deno.test("project feed: a run's start, every event, its answer, the memory and its end, in order", async () => {
  await using server = await startServer(RUNS_ENV);
  const project = await createProject(server.url);
  const feed = await openFeed(server.url, `/api/projects/${project.id}/events`);
  assert.equal(feed.status, 200);
  assert.equal(feed.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(feed.headers.get("cache-control"), "no-cache, no-transform");
  const run = await startRun(server.url, project.id, "Remember that the launch is on May 3");
  const events = await readFeed(feed, ended(run.runId));

  assert.deepEqual(types(events).slice(0, 2), ["run.started", "message.added"]);
  const started = events[0] as Extract<FeedEvent, { type: "run.started" }>;
  assert.equal(started.run.runId, run.runId);
  assert.equal(started.run.message, "Remember that the launch is on May 3");
  assert.equal(started.run.eventsUrl, run.eventsUrl);
  // The run's own events, all of them, in seq order, between its start and its end.
  const runEvents = events.filter((e): e is RunEvent & { id: string } => !e.type.includes("."));
  assert.deepEqual(runEvents.map((e) => e.seq), runEvents.map((_, i) => i + 1));
  assert.equal(runEvents.at(-1)!.type, "result");
  const direct = await call<string>(`${server.url}${run.eventsUrl}`);
  const directCount = (direct.body.match(/^data:/gm) ?? []).length;
  assert.equal(runEvents.length, directCount, "the feed carries every event the run stream has");
  const terminalAt = events.findIndex((e) => e.type === "result");
  assert.ok(terminalAt < events.length - 1 && events.at(-1)!.type === "run.ended", "run.ended after result");
  assert.equal((events.at(-1) as Extract<FeedEvent, { type: "run.ended" }>).status, "succeeded");
  const memory = events.find((e) => e.type === "memory.added") as Extract<
    FeedEvent,
    { type: "memory.added" }
  >;
  assert.match(memory.memory.text, /May 3/);
  const answers = events.filter((e) => e.type === "message.added").map((e) =>
    (e as Extract<FeedEvent, { type: "message.added" }>).message
  );
  assert.deepEqual(answers.map((m) => m.role), ["user", "assistant"]);
  // Ids are positions: each names the feed's change and the runs followed.
  assert.match(events[0]!.id, /^\d+,[0-9a-z]+:0$/);
  assert.match(events.at(-1)!.id, /^\d+$/);
});

Deno.test("project feed: resumed from every id, it gives exactly the events after it", async () => {
  await using server = await startServer(RUNS_ENV);
  const project = await createProject(server.url);
  const feed = await openFeed(server.url, `/api/projects/${project.id}/events`, "0");
  const run = await startRun(server.url, project.id, "Remember that Ana leads design");
  const all = await readFeed(feed, ended(run.runId));
  // The feed's changes and the run's events each keep their order; how the two
  // interleave depends on timing, so each is compared on its own.
  const split = (events: Wire[]) => {
    const text = events.map(({ id: _, ...e }) => JSON.stringify(e));
    return {
      changes: text.filter((_, i) => events[i]!.type.includes(".")),
      run: text.filter((_, i) => !events[i]!.type.includes(".")),
    };
  };
  for (let i = 0; i < all.length - 1; i++) {
    const rest = await readFeed(
      await openFeed(server.url, `/api/projects/${project.id}/events`, all[i]!.id),
      ended(run.runId),
    );
    assert.deepEqual(split(rest), split(all.slice(i + 1)), `resumed after id ${all[i]!.id}`);
    assert.equal(rest.at(-1)!.type, "run.ended");
  }
});

Deno.test("project feed: two runs at once each keep their events in order, and each ends after its result", async () => {
  await using server = await startServer({ ...RUNS_ENV, LANTERN_LOCAL_TOKEN_MS: "2" });
  const project = await createProject(server.url);
  const feed = await openFeed(server.url, `/api/projects/${project.id}/events`);
  const a = await startRun(server.url, project.id, "hi");
  const b = await startRun(server.url, project.id, "Remember that the beta is in June");
  const seen = new Set<string>();
  const events = await readFeed(feed, (e) => {
    if (e.type === "run.ended") seen.add(e.runId);
    return seen.size === 2;
  });
  for (const run of [a, b]) {
    const own = events.filter((e) =>
      "runId" in e && e.runId === run.runId && !e.type.includes(".")
    ) as RunEvent[];
    assert.deepEqual(own.map((e) => e.seq), own.map((_, i) => i + 1), `run ${run.runId} in order`);
    const endAt = events.findIndex(ended(run.runId));
    const resultAt = events.findIndex((e) => e.type === "result" && e.runId === run.runId);
    assert.ok(resultAt >= 0 && resultAt < endAt);
  }
  // The saved conversation reads as exchanges: each answer under its own message.
  const messages = (await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`)).body;
  assert.deepEqual(messages.map((m) => `${m.role}:${m.runId}`), [
    `user:${a.runId}`,
    `assistant:${a.runId}`,
    `user:${b.runId}`,
    `assistant:${b.runId}`,
  ]);
});

Deno.test("project feed: forget, rename and delete reach viewers; delete ends the feed", async () => {
  await using server = await startServer(RUNS_ENV);
  const project = await createProject(server.url);
  const memory = (await call<{ id: string }>(`${server.url}/api/projects/${project.id}/memories`, {
    body: { text: "The office is in Lyon" },
  })).body;
  const feed = await openFeed(server.url, `/api/projects/${project.id}/events`);
  const list = await openFeed(server.url, `/api/events`);
  await call(`${server.url}/api/projects/${project.id}/memories/${memory.id}`, { method: "DELETE" });
  await call(`${server.url}/api/projects/${project.id}`, { method: "PATCH", body: { name: "Renamed" } });
  await call(`${server.url}/api/projects/${project.id}`, { method: "DELETE" });
  const events: Wire[] = [];
  for await (const message of readEvents(feed)) events.push(JSON.parse(message.data));
  assert.deepEqual(types(events), ["memory.removed", "project.renamed", "project.deleted"]);
  assert.deepEqual(
    events[0],
    { ...events[0], memoryId: memory.id, reason: "forgotten" },
  );
  assert.equal((events[1] as Extract<FeedEvent, { type: "project.renamed" }>).project.name, "Renamed");
  const listed = await readFeed(list, (e) => e.type === "project.deleted");
  assert.deepEqual(types(listed), ["project.renamed", "project.deleted"]);
  // The deleted project's feed is gone.
  const again = await call(`${server.url}/api/projects/${project.id}/events`);
  assert.equal(again.status, 404);
});

Deno.test("list feed: created, renamed and deleted, resumable", async () => {
  await using server = await startServer(RUNS_ENV);
  const feed = await openFeed(server.url, `/api/events`);
  const p = await createProject(server.url, "Garden");
  await call(`${server.url}/api/projects/${p.id}`, { method: "PATCH", body: { name: "Orchard" } });
  await call(`${server.url}/api/projects/${p.id}`, { method: "DELETE" });
  const events = await readFeed(feed, (e) => e.type === "project.deleted");
  assert.deepEqual(types(events), ["project.created", "project.renamed", "project.deleted"]);
  assert.equal((events[0] as Extract<FeedEvent, { type: "project.created" }>).project.name, "Garden");
  const resumed = await readFeed(
    await openFeed(server.url, `/api/events`, events[0]!.id),
    (e) => e.type === "project.deleted",
  );
  assert.deepEqual(types(resumed), ["project.renamed", "project.deleted"]);
});

Deno.test("feeds: a Last-Event-ID that is not an id is a 400 in JSON; a position past the feed resets", async () => {
  await using server = await startServer(RUNS_ENV);
  const project = await createProject(server.url);
  for (const bad of ["x", "-1", "1,", "1,UPPER:2", "1.5"]) {
    const res = await openFeed(server.url, `/api/projects/${project.id}/events`, bad);
    assert.equal(res.status, 400, bad);
    assert.equal((await res.json()).error.code, "invalid_last_event_id");
  }
  const ahead = await readFeed(
    await openFeed(server.url, `/api/projects/${project.id}/events`, "99"),
    () => true,
  );
  assert.equal(ahead[0]!.type, "feed.reset");
});

Deno.test("feeds: many viewers share one watch and one timer, and each gets keep-alives when idle", async () => {
  await using server = await startServer({ ...RUNS_ENV, LANTERN_HEARTBEAT_MS: "40" });
  const project = await createProject(server.url);
  const abort = new AbortController();
  const viewers = await Promise.all(
    Array.from(
      { length: 20 },
      () => openFeed(server.url, `/api/projects/${project.id}/events`, undefined, abort.signal),
    ),
  );
  const stats = server.lantern.feeds.stats();
  assert.deepEqual(stats, { topics: 1, watches: 1, timers: 1, viewers: 20 });
  // Each idle viewer gets a keep-alive comment.
  const decoder = new TextDecoder();
  await Promise.all(viewers.map((res) =>
    within(
      "a keep-alive",
      (async () => {
        const reader = res.body!.getReader();
        let text = "";
        while (!text.includes(": keep-alive")) text += decoder.decode((await reader.read()).value);
        reader.releaseLock();
      })(),
    )
  ));
  abort.abort();
  for (const res of viewers) await res.body?.cancel().catch(() => {});
  await within(
    "viewers to be released",
    (async () => {
      while (server.lantern.feeds.stats().viewers > 0) await new Promise((r) => setTimeout(r, 10));
    })(),
  );
  assert.deepEqual(server.lantern.feeds.stats(), { topics: 0, watches: 0, timers: 0, viewers: 0 });
});

Deno.test("deno serve --parallel: a feed on one isolate sees runs started on another", async () => {
  await using kv = await tempKvPath();
  const server = await spawnParallel({
    ...RUNS_ENV,
    LANTERN_KV_PATH: kv.path,
  });
  const clients: Deno.HttpClient[] = [];
  try {
    const project = await createProject(server.url);
    // Feeds on fresh connections, eight at a time and kept open, until both isolates serve one: one
    // connection after another can all be taken by whichever isolate waits first in accept.
    const feeds = new Map<string, Response>();
    const spare: Response[] = [];
    for (let batch = 0; batch < 8 && feeds.size < 2; batch++) {
      const opened = await Promise.all(Array.from({ length: 8 }, () => {
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
        clients.push(client);
        return fetch(`${server.url}/api/projects/${project.id}/events`, { client });
      }));
      for (const res of opened) {
        const instance = res.headers.get("x-instance-id")!;
        if (feeds.has(instance)) spare.push(res);
        else feeds.set(instance, res);
      }
    }
    for (const res of spare) await res.body?.cancel();
    assert.equal(feeds.size, 2, "both isolates serve a feed");
    const run = await startRun(server.url, project.id, "Remember that tea is at 4");
    for (const [instance, res] of feeds) {
      const events = await readFeed(res, ended(run.runId), 30_000);
      assert.equal(events[0]!.type, "run.started", `feed on ${instance}`);
      assert.ok(events.some((e) => e.type === "result"), `feed on ${instance} carries the run's events`);
    }
  } finally {
    for (const client of clients) client.close();
    await server.kill();
  }
});

Deno.test("feed viewer: a run.ended that comes before the run's terminal event waits for it, without spinning", async () => {
  const kv = await Deno.openKv(":memory:");
  const log = new FeedLog(kv);
  const hub = new FeedHub(log, { heartbeatMs: 60_000 });
  const scope = feedScopes.project("p1");
  const feed = new RunFeed("r1", "p1");
  const viewer = await hub.subscribe(scope, { seq: 0, runs: new Map() }, {
    openRun: () => Promise.resolve({ feed, release: () => {} }),
  });
  try {
    await log.commit([{
      scope,
      changes: [{
        type: "run.started",
        run: { runId: "r1", messageId: "m1", message: "hi", eventsUrl: "/e" },
      }],
    }]);
    feed.push({ type: "token", runId: "r1", seq: 1, ts: 0, delta: "a" });
    await log.commit([{ scope, changes: [{ type: "run.ended", runId: "r1", status: "succeeded" }] }]);
    const decoder = new TextDecoder();
    const text = async () => {
      const step = await viewer.next();
      return step.kind === "frames" ? step.frames.map((f) => decoder.decode(f)).join("") : step.kind;
    };
    let got = "";
    while (!got.includes('"delta":"a"')) got += await within("the run's first event", text());
    assert.doesNotMatch(got, /run\.ended/);
    // The viewer now waits for the terminal event: timers still fire (no busy loop), nothing comes.
    const pending = viewer.next();
    let timerRan = false;
    await new Promise<void>((resolve) => setTimeout(() => (timerRan = true, resolve()), 20));
    assert.ok(timerRan);
    feed.push({
      type: "cancelled",
      runId: "r1",
      seq: 2,
      ts: 0,
      cancelled: { message: "Stopped.", step: null },
    });
    let rest = await within(
      "the terminal event",
      pending.then((s) => s.kind === "frames" ? s.frames.map((f) => decoder.decode(f)).join("") : s.kind),
    );
    while (!rest.includes("run.ended")) rest += await within("run.ended", text());
    assert.ok(rest.indexOf('"cancelled"') < rest.indexOf("run.ended"), "the terminal event goes first");
  } finally {
    viewer.close();
    hub.close();
    kv.close();
  }
});

Deno.test("feed topic: a watch's late news of an older head is not a reset", async () => {
  const kv = await Deno.openKv(":memory:");
  const log = new FeedLog(kv);
  const scope = feedScopes.list;
  const topic = new FeedTopic(scope, log, 60_000);
  await topic.start();
  try {
    for (let i = 0; i < 3; i++) {
      await log.commit([{ scope, changes: [{ type: "project.deleted", projectId: `p${i}` }] }]);
    }
    await topic.advance(3);
    await topic.advance(1); // late news
    assert.equal(topic.resets, 0);
    assert.equal(topic.known, 3);
  } finally {
    topic.stop();
    kv.close();
  }
});

Deno.test("project feed: a long answer travels cut, marked truncated, and the messages API has it whole", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = createStores(kv);
    const long = "word ".repeat(40_000);
    await stores.messages.add("p1", { role: "assistant", content: long, runId: "r1" });
    const [change] = await stores.feed.read(feedScopes.project("p1"), 0);
    assert.equal(change?.type, "message.added");
    const message = (change as Extract<FeedEvent, { type: "message.added" }>).message;
    assert.equal(message.truncated, true);
    assert.equal(message.content, long.slice(0, FEED_MESSAGE_CHARS));
    assert.equal((await stores.messages.list("p1"))[0]!.content, long);
  } finally {
    kv.close();
  }
});

Deno.test("feed log: two writers of one feed (two instances) interleave without losing or reusing a number", async () => {
  const kv = await Deno.openKv(":memory:");
  // Each remembers the head it wrote last; the other's appends must make it read the head again.
  const a = new FeedLog(kv);
  const b = new FeedLog(kv);
  const scope = feedScopes.project("p1");
  const change = (n: number) => ({
    type: "project.renamed" as const,
    project: { id: "p1", name: `n${n}`, createdAt: "2026-01-01T00:00:00.000Z" },
  });
  const heads: number[] = [];
  for (let n = 1; n <= 12; n++) {
    const writer = n % 3 === 0 ? b : a;
    const out = await writer.commit([{ scope, changes: [change(n)] }]);
    heads.push(out?.[scope] ?? -1);
  }
  // And at once: both race for the same head.
  const raced = await Promise.all(
    [13, 14, 15, 16].map((n) => (n % 2 ? a : b).commit([{ scope, changes: [change(n)] }])),
  );
  const events = await a.read(scope, 0);
  assert.deepEqual(heads, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(raced.map((h) => h?.[scope]).sort((x, y) => x! - y!), [13, 14, 15, 16]);
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 16 }, (_, i) => i + 1));
  assert.equal(new Set(events.map((e) => e.type === "project.renamed" && e.project.name)).size, 16);
  kv.close();
});
