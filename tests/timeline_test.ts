import assert from "node:assert/strict";
import fc from "fast-check";
import { type AgentEvent, type RunEvent, type RunRecord, type StepName, STEPS } from "../lib/protocol.ts";
import { describePlan } from "../lib/agent/steps/plan_text.ts";
import {
  applyEvent,
  emptyTimeline,
  foldEvents,
  statusOfTimeline,
  stepsFinished,
  timelineFromRecord,
} from "../lib/timeline.ts";
import {
  announcementFor,
  explainError,
  formatDuration,
  nextStepHint,
  withoutRepeatedReasons,
} from "../lib/timeline_words.ts";

/** Stamps agent events as the registry does: runId, seq 1, 2, 3…, ts 100 ms apart. */
function stamp(bodies: AgentEvent[], runId = "run1"): RunEvent[] {
  return bodies.map((body, i) => ({ ...body, runId, seq: i + 1, ts: 1000 + i * 100 }) as RunEvent);
}

function progress(step: StepName, phase: "start" | "update" | "end", extra: Record<string, unknown> = {}) {
  return {
    type: "progress" as const,
    progress: {
      step,
      phase,
      message: `${step} ${phase}`,
      details: phase === "end" ? `${step} details` : "",
      timestamp: "",
      metadata: extra,
    },
  };
}

/** A whole successful run: each step opens and closes, one action, three tokens, a result. */
function fullRun(): RunEvent[] {
  const bodies: AgentEvent[] = [];
  for (const step of STEPS) {
    bodies.push(progress(step, "start"));
    if (step === "execution") {
      bodies.push({
        type: "action",
        action: {
          index: 0,
          tool: "list_memories",
          args: {},
          ok: true,
          summary: "Listed.",
          output: [],
          durationMs: 1,
        },
      });
    }
    if (step === "completion") {
      for (const delta of ["Got ", "it", "."]) bodies.push({ type: "token", delta });
    }
    bodies.push(progress(step, "end"));
  }
  bodies.push({
    type: "result",
    result: {
      runId: "run1",
      message: "Got it.",
      plan: [],
      actions: [],
      memories: { added: [], removed: [] },
      steps: [],
      engine: "local",
    },
  });
  return stamp(bodies);
}

Deno.test("an empty timeline has the eight steps pending, in order", () => {
  const idle = emptyTimeline();
  assert.deepEqual(idle.steps.map((s) => s.step), [...STEPS]);
  assert.ok(idle.steps.every((s) => s.status === "pending"));
  assert.equal(idle.outcome, null);
  assert.equal(emptyTimeline("run1").outcome, "running");
});

Deno.test("each step turns active on its start and done on its end, one at a time", () => {
  const events = fullRun();
  let timeline = emptyTimeline("run1");
  for (const event of events) {
    timeline = applyEvent(timeline, event);
    const active = timeline.steps.filter((s) => s.status === "active");
    assert.ok(active.length <= 1, `${active.length} steps active after seq ${event.seq}`);
    if (event.type === "progress" && event.progress.phase === "start") {
      assert.equal(active[0]?.step, event.progress.step);
      const index = STEPS.indexOf(event.progress.step);
      assert.ok(timeline.steps.slice(0, index).every((s) => s.status === "done"));
      assert.ok(timeline.steps.slice(index + 1).every((s) => s.status === "pending"));
    }
  }
  assert.ok(timeline.steps.every((s) => s.status === "done"));
  assert.equal(timeline.outcome, "succeeded");
  assert.equal(timeline.answer, "Got it.");
  assert.equal(stepsFinished(timeline), 8);
  assert.equal(timeline.startedAt, events[0]!.ts);
  assert.equal(timeline.endedAt, events.at(-1)!.ts);
  const execution = timeline.steps.find((s) => s.step === "execution")!;
  // The action event becomes an update of its step: what it did, with what, and whether it worked.
  assert.deepEqual(execution.updates, [{ message: "Listed.", details: "{}", ok: true }]);
  assert.equal(execution.details, "execution details");
  assert.ok(execution.endedAt! > execution.startedAt!);
});

Deno.test("a result alone (a page that saw only the end) marks every step done", () => {
  const result = fullRun().at(-1)!;
  const timeline = applyEvent(emptyTimeline("run1"), result);
  assert.ok(timeline.steps.every((s) => s.status === "done"));
  assert.equal(timeline.outcome, "succeeded");
});

Deno.test("tokens build the answer as they come", () => {
  const events = fullRun();
  const beforeResult = foldEvents(events.slice(0, -2));
  assert.equal(beforeResult.answer, "Got it.");
  assert.equal(beforeResult.outcome, "running");
  const firstToken = events.findIndex((e) => e.type === "token");
  assert.equal(foldEvents(events.slice(0, firstToken + 1)).answer, "Got ");
});

Deno.test("applying an event leaves the old timeline as it was", () => {
  const [first] = fullRun();
  const before = emptyTimeline("run1");
  const copy = structuredClone(before);
  const after = applyEvent(before, first!);
  assert.deepEqual(before, copy);
  assert.notEqual(after, before);
});

Deno.test("a replay that overlaps what was seen changes nothing (property)", () => {
  const events = fullRun();
  const whole = foldEvents(events);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: events.length }),
      fc.integer({ min: 0, max: events.length }),
      (cut, back) => {
        // Seen up to `cut`, then a reconnect replays from any earlier point.
        let timeline = foldEvents(events.slice(0, cut), "run1");
        for (const event of events.slice(Math.min(back, cut))) timeline = applyEvent(timeline, event);
        assert.deepEqual(timeline, whole);
      },
    ),
  );
});

Deno.test("an error marks its step, skips the rest and keeps what was done", () => {
  const bodies: AgentEvent[] = [
    progress("start", "start"),
    progress("start", "end"),
    progress("context", "start"),
    progress("context", "end"),
    progress("analyzing", "start"),
    progress("analyzing", "end"),
    progress("planning", "start"),
    progress("planning", "end"),
    progress("validation", "start"),
    {
      type: "error",
      error: { code: "invalid_plan", message: "The plan names no tool.", step: "validation" },
    },
  ];
  const timeline = foldEvents(stamp(bodies));
  assert.equal(timeline.outcome, "failed");
  assert.deepEqual(timeline.steps.map((s) => s.status), [
    "done",
    "done",
    "done",
    "done",
    "error",
    "skipped",
    "skipped",
    "skipped",
  ]);
  assert.equal(timeline.steps[4]!.message, "The plan names no tool.");
  assert.deepEqual(timeline.error, {
    code: "invalid_plan",
    message: "The plan names no tool.",
    step: "validation",
  });
});

Deno.test("an error without a step lands on the active one", () => {
  const timeline = foldEvents(stamp([
    progress("start", "start"),
    progress("start", "end"),
    progress("context", "start"),
    { type: "error", error: { code: "interrupted", message: "The server shut down.", step: null } },
  ]));
  assert.equal(timeline.steps[1]!.status, "error");
  assert.equal(timeline.steps[1]!.message, "The server shut down.");
  assert.equal(stepsFinished(timeline), 2);
});

Deno.test("a stop marks the step it stopped at as cancelled", () => {
  const timeline = foldEvents(stamp([
    progress("start", "start"),
    progress("start", "end"),
    progress("context", "start"),
    { type: "cancelled", cancelled: { message: "Stopped before it finished.", step: "context" } },
  ]));
  assert.equal(timeline.outcome, "cancelled");
  assert.deepEqual(timeline.steps.map((s) => s.status).slice(0, 3), ["done", "cancelled", "skipped"]);
  assert.equal(timeline.error?.code, "cancelled");
});

Deno.test("each step is announced once, when it starts, then the outcome", () => {
  const lines = fullRun().map(announcementFor).filter((line) => line !== null);
  assert.equal(lines.length, STEPS.length + 1);
  assert.equal(lines[0], "Step 1 of 8, Start: start start");
  assert.equal(lines[7], "Step 8 of 8, Completion: completion start");
  assert.equal(lines.at(-1), "Answer ready.");
  const [error] = stamp([{ type: "error", error: { code: "interrupted", message: "Gone.", step: null } }]);
  assert.equal(announcementFor(error!), "The run failed: Gone. Send your message again.");
});

Deno.test("an error says what to do next, once", () => {
  assert.equal(nextStepHint("interrupted"), "Send your message again.");
  assert.match(nextStepHint("model_timeout"), /try again/);
  assert.match(nextStepHint("something_new"), /server's log/);
  assert.equal(
    explainError({ code: "interrupted", message: "The server shut down. Send your message again." }),
    "The server shut down. Send your message again.",
  );
  assert.equal(
    explainError({ code: "invalid_plan", message: "No such tool." }),
    "No such tool. Rephrase your message and send it again.",
  );
});

Deno.test("a reason shows once: validation and execution list the planned actions without it", () => {
  const plan = [
    { tool: "save_memory", args: { text: "Ana leads design" }, why: "You asked to keep it." },
    { tool: "search_memories", args: { query: "launch" }, why: "You asked when.\nAbout the launch." },
  ];
  const planned = describePlan(plan);
  const listed = withoutRepeatedReasons(planned, [planned]);
  assert.equal(listed, '1. save_memory({"text":"Ana leads design"})\n2. search_memories({"query":"launch"})');
  // Nothing said before: the reasons stay (also one that runs over two lines).
  assert.equal(withoutRepeatedReasons(planned, []), planned);
  // A new plan (made at validation) keeps the reasons planning did not give, once.
  const replanned = describePlan([plan[0]!, { ...plan[1]!, why: "You asked when." }]);
  assert.equal(
    withoutRepeatedReasons(replanned, [planned]),
    '1. save_memory({"text":"Ana leads design"})\n2. search_memories({"query":"launch"})\n   Why: You asked when.',
  );
  // A reason is only dropped when it was said whole, not when an earlier one starts with it.
  const longer = describePlan([{ ...plan[0]!, why: "You asked to keep it. Twice." }]);
  assert.equal(withoutRepeatedReasons(describePlan([plan[0]!]), [longer]), describePlan([plan[0]!]));
  // Details that are not a plan are left as they are.
  assert.equal(withoutRepeatedReasons("+ Ana leads design", [planned]), "+ Ana leads design");
});

Deno.test("a timeline's status: running, succeeded, cancelled, failed or interrupted", () => {
  const [cancelled, failed, interrupted] = [
    { type: "cancelled", cancelled: { message: "Stopped.", step: null } },
    { type: "error", error: { code: "invalid_plan", message: "No.", step: null } },
    { type: "error", error: { code: "interrupted", message: "Gone.", step: null } },
  ].map((body) => foldEvents(stamp([body as AgentEvent]), "run1"));
  assert.equal(statusOfTimeline(emptyTimeline("run1")), "running");
  assert.equal(statusOfTimeline(foldEvents(fullRun(), "run1")), "succeeded");
  assert.equal(statusOfTimeline(cancelled!), "cancelled");
  assert.equal(statusOfTimeline(failed!), "failed");
  assert.equal(statusOfTimeline(interrupted!), "interrupted");
});

Deno.test("durations read well from milliseconds to minutes", () => {
  assert.equal(formatDuration(0), "0 ms");
  assert.equal(formatDuration(-5), "0 ms");
  assert.equal(formatDuration(999.4), "999 ms");
  assert.equal(formatDuration(1640), "1.6 s");
  assert.equal(formatDuration(125_000), "2 min 5 s");
});

function record(patch: Partial<RunRecord>): RunRecord {
  return {
    id: "run1",
    projectId: "p1",
    message: "Remember that the launch is on May 3",
    status: "succeeded",
    createdAt: "2025-05-01T10:00:00.000Z",
    endedAt: "2025-05-01T10:00:01.500Z",
    durationMs: 1500,
    lastSeq: 30,
    owner: "i1",
    messageId: "m1",
    engine: "local",
    result: null,
    error: null,
    usage: null,
    ...patch,
  };
}

Deno.test("a finished run's record gives its outcome, step times and where it stopped", () => {
  const result = (fullRun().at(-1) as RunEvent & { type: "result" }).result;
  const ok = timelineFromRecord(record({
    result: { ...result, steps: STEPS.map((step, i) => ({ step, durationMs: 100 + i })) },
  }));
  assert.equal(ok.outcome, "succeeded");
  assert.ok(ok.steps.every((s) => s.status === "done"));
  assert.deepEqual(ok.steps.map((s) => s.endedAt! - s.startedAt!), STEPS.map((_, i) => 100 + i));
  assert.equal(ok.endedAt! - ok.startedAt!, 1500);

  const failed = timelineFromRecord(record({
    status: "interrupted",
    error: { code: "interrupted", message: "The server stopped.", step: "planning" },
  }));
  assert.equal(failed.outcome, "failed");
  assert.deepEqual(failed.steps.map((s) => s.status), [
    "done",
    "done",
    "done",
    "error",
    "skipped",
    "skipped",
    "skipped",
    "skipped",
  ]);
  assert.equal(failed.steps[3]!.message, "The server stopped.");

  const stopped = timelineFromRecord(record({
    status: "cancelled",
    error: { code: "cancelled", message: "Stopped before it finished.", step: "start" },
  }));
  assert.equal(stopped.outcome, "cancelled");
  assert.equal(stopped.steps[0]!.status, "cancelled");
});

Deno.test("a terminal event with an old seq still ends a running timeline, once", () => {
  // After a crash the log may be shorter than what the page saw: the
  // `interrupted` error then reuses a seq the page already has.
  const seen = foldEvents(fullRun().slice(0, 6));
  const [late] = stamp([{ type: "error", error: { code: "interrupted", message: "Gone.", step: null } }]);
  const ended = applyEvent(seen, { ...late!, seq: 4 });
  assert.equal(ended.outcome, "failed");
  assert.equal(ended.lastSeq, seen.lastSeq);
  const [cancel] = stamp([{ type: "cancelled", cancelled: { message: "Stopped.", step: null } }]);
  assert.equal(applyEvent(ended, { ...cancel!, seq: 5 }), ended);
});
