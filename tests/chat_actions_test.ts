/**
 * The island's actions without a browser: what a send, a Stop and opening a
 * run's steps do to the page's state when the server answers, refuses, or
 * cannot be reached (fetch is replaced by a scripted one).
 */

import assert from "node:assert/strict";
import { computed, signal } from "@preact/signals";
import { chatActions, type ChatPlace, type ChatState, type Notice } from "../lib/client/chat_actions.ts";
import type { RunStarted } from "../lib/protocol.ts";
import type { Timeline } from "../lib/timeline.ts";

/** A page's state as the hook makes it, from plain signals. */
function state(): ChatState {
  const own = signal<string[]>([]);
  const timelines = signal<Record<string, Timeline>>({});
  const ownRunning = computed(() =>
    own.value.findLast((id) => timelines.value[id]?.outcome === "running") ?? null
  );
  const sending = signal(false);
  return {
    messages: signal([]),
    memories: signal([]),
    fresh: signal([]),
    expanded: signal([]),
    unfolded: signal([]),
    timelines,
    infos: signal({}),
    connection: signal("live"),
    restarted: signal(false),
    sending,
    stopping: signal(false),
    notice: signal<Notice | null>(null),
    now: signal(0),
    announcement: signal(""),
    draft: signal(""),
    hydrated: signal(true),
    deleted: signal(false),
    own,
    ownRunning,
    busy: computed(() => sending.value || ownRunning.value !== null),
    atBottom: signal(true),
    composer: { current: null },
    form: { current: null },
  };
}

/** Runs `body` with fetch answering each call from `answer`, and the page's scroll stubbed. */
async function withServer(
  answer: (url: string, init?: RequestInit) => Response | Promise<Response>,
  body: (calls: string[]) => Promise<void>,
): Promise<void> {
  const calls: string[] = [];
  const saved = { fetch: globalThis.fetch, scrollTo: globalThis.scrollTo };
  const g = globalThis as unknown as Record<string, unknown>;
  globalThis.fetch = (input, init) => {
    calls.push(`${init?.method ?? "GET"} ${input}`);
    return Promise.resolve(answer(String(input), init));
  };
  g.scrollTo = () => {};
  g.document = { documentElement: { scrollHeight: 0 } };
  try {
    await body(calls);
  } finally {
    globalThis.fetch = saved.fetch;
    g.scrollTo = saved.scrollTo;
    delete g.document;
  }
}

const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

function place(started: RunStarted[] = []): ChatPlace {
  return { projectId: "p1", firstMessageId: null, olderCount: 0, started: (run) => started.push(run) };
}

Deno.test("a message sent shows at once, then belongs to its run, one this page stands for (Stop stops it)", async () => {
  const s = state();
  const started: RunStarted[] = [];
  const run = { runId: "r1", eventsUrl: "/api/projects/p1/runs/r1/events" };
  await withServer(() => json(202, run), async (calls) => {
    s.draft.value = "Remember that the launch is on May 3";
    await chatActions(s, place(started)).send(s.draft.value);
    assert.deepEqual(calls, ["POST /api/projects/p1/runs"]);
  });
  assert.equal(s.draft.value, "");
  assert.deepEqual(s.messages.value.map((m) => [m.content, m.runId]), [[
    "Remember that the launch is on May 3",
    "r1",
  ]]);
  assert.deepEqual(s.own.value, ["r1"]);
  assert.deepEqual(started.map((r) => r.runId), ["r1"]);
  assert.equal(s.sending.value, false);
  assert.equal(s.notice.value, null);
});

Deno.test("a message the server refuses is taken back, the draft restored, and the reason shown", async () => {
  const s = state();
  await withServer(
    () => json(429, { error: { code: "rate_limited", message: "Too many runs." } }),
    async () => {
      s.draft.value = "hello";
      await chatActions(s, place()).send("hello");
    },
  );
  assert.deepEqual(s.messages.value, []);
  assert.equal(s.draft.value, "hello");
  assert.deepEqual(s.notice.value, { text: "Your message was not sent: Too many runs.", cause: "other" });
  assert.equal(s.sending.value, false);
});

Deno.test("a send with no network says so, and the notice clears once the server answers", async () => {
  const s = state();
  await withServer(() => Promise.reject(new TypeError("offline")), async () => {
    await chatActions(s, place()).send("hello");
  });
  assert.equal(s.notice.value?.cause, "network");
  assert.match(s.notice.value?.text ?? "", /^Your message was not sent: The server cannot be reached\./);
  chatActions(s, place()).reachable();
  assert.equal(s.notice.value, null);
  // A notice of another cause stays.
  s.notice.value = { text: "Could not forget it: Gone.", cause: "other" };
  chatActions(s, place()).reachable();
  assert.equal(s.notice.value?.text, "Could not forget it: Gone.");
});

Deno.test("Stop that fails lets the person try again", async () => {
  const s = state();
  s.own.value = ["r1"];
  s.timelines.value = { r1: { outcome: "running" } as Timeline };
  await withServer(
    () => json(503, { error: { code: "shutting_down", message: "The server is stopping." } }),
    async (calls) => {
      await chatActions(s, place()).stop();
      assert.deepEqual(calls, ["POST /api/projects/p1/runs/r1/cancel"]);
    },
  );
  assert.equal(s.stopping.value, false);
  assert.equal(s.notice.value?.text, "Could not stop the run: The server is stopping. Try Stop again.");
});

Deno.test("opening a run's steps reads its log once; a failure closes them again with a notice", async () => {
  const s = state();
  const frame = (event: object) => `data: ${JSON.stringify(event)}\n\n`;
  const log = frame({ type: "token", runId: "r1", seq: 1, ts: 1, delta: "Hi" }) +
    frame({ type: "cancelled", runId: "r1", seq: 2, ts: 2, cancelled: { message: "Stopped.", step: null } });
  const click = () => new Event("click", { cancelable: true });
  await withServer(
    (url) => url.includes("/r1/") ? new Response(log) : new Response("", { status: 404 }),
    async (calls) => {
      const act = chatActions(s, place());
      await act.toggleSteps(click(), "r1");
      assert.deepEqual(s.expanded.value, ["r1"]);
      assert.equal(s.timelines.value.r1?.outcome, "cancelled");
      await act.toggleSteps(click(), "r1");
      await act.toggleSteps(click(), "r1");
      assert.equal(calls.length, 1, "the log was read again");
      await act.toggleSteps(click(), "r2");
    },
  );
  assert.deepEqual(s.expanded.value, ["r1"]);
  assert.equal(s.notice.value?.text, "Could not show the steps: The steps of this run cannot be read (404).");
});
