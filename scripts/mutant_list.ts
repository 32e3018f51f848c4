/**
 * The deliberate bugs `deno task mutants` plants, one at a time, to check
 * that the tests catch each broken promise of the README. Each names the
 * promise, where the bug goes (a file and an exact text or a regex that must
 * match exactly once) and the test files that must fail on it. When a
 * refactor moves the code, the locator stops matching and the mutant is
 * reported STALE: update its `find`, not the test.
 *
 * @module
 */

/** One text change in one file. */
export interface Edit {
  /** The file, relative to the repository root. */
  file: string;
  /** The exact text to replace (it must occur exactly once), or a regex that must match exactly once. */
  find: string | RegExp;
  /** What replaces it (`$1`… work with a regex). */
  replace: string;
}

/** A deliberate bug and the tests that must catch it. */
export interface Mutant extends Edit {
  id: string;
  /** The promise it breaks, in one sentence. */
  promise: string;
  /** Further edits the same bug needs in other places (applied with the first). */
  more?: Edit[];
  /** Test files (relative to the root) that must fail with the bug in place. */
  tests: string[];
}

/**
 * Every mutant, grouped by the class of promise it breaks.
 *
 * @example
 * ```ts
 * import { MUTANTS } from "./mutant_list.ts";
 * console.log(new Set(MUTANTS.map((m) => m.id)).size === MUTANTS.length); // true
 * ```
 */
export const MUTANTS: Mutant[] = [
  {
    id: "events-buffered",
    promise: "Events reach the client as they are emitted, not all at once when the run ends.",
    file: "lib/http/run_stream.ts",
    find: "return new Response(body, { headers });",
    replace: "return new Response(await new Response(body).blob(), { headers });",
    tests: ["tests/stream_test.ts", "tests/tokens_test.ts"],
  },
  {
    id: "step-missing",
    promise: "Every run streams all eight steps, each with a start and an end.",
    file: "lib/agent/run_agent.ts",
    find: "    for (const name of STEPS) {",
    replace: `    for (const name of STEPS.filter((s) => s !== "memory")) {`,
    tests: ["tests/smoke_test.ts", "tests/stream_test.ts"],
  },
  {
    id: "steps-reordered",
    promise: "The eight steps come in their fixed order (analyzing before planning).",
    file: "lib/agent/run_agent.ts",
    find: "    for (const name of STEPS) {",
    replace:
      `    for (const name of [...STEPS].sort((a, b) => a === "planning" && b === "analyzing" ? -1 : 0)) {`,
    tests: ["tests/smoke_test.ts"],
  },
  {
    id: "sse-framing",
    promise: "Each event is one SSE message that ends with a blank line.",
    file: "lib/sse.ts",
    find: `return out + "\\n";`,
    replace: "return out;",
    tests: ["tests/sse_test.ts", "tests/stream_test.ts"],
  },
  {
    id: "sse-event-field",
    promise: "Events carry no `event:` field, so EventSource.onmessage sees them all.",
    file: "lib/runs/feed.ts",
    find: `const DATA_PREFIX = "\\ndata: ";`,
    replace: `const DATA_PREFIX = "\\nevent: run\\ndata: ";`,
    tests: ["tests/stream_test.ts"],
  },
  {
    id: "seq-gap",
    promise: "A live follower gets seq 1, 2, 3… without a gap.",
    file: "lib/runs/event_stream.ts",
    find:
      "for (let i = 0; i < events.length; i++) controller.enqueue(frames?.[i] ?? encodeFrame(events[i]!));",
    replace:
      "for (let i = 0; i < events.length; i++) if (events[i]!.seq !== 2) controller.enqueue(frames?.[i] ?? encodeFrame(events[i]!));",
    tests: ["tests/runs_resume_test.ts"],
  },
  {
    id: "keep-alive-never",
    promise: "A silent stream gets a keep-alive comment after LANTERN_HEARTBEAT_MS.",
    file: "lib/runs/cursor.ts",
    find: "this.#due = true;",
    replace: "this.#due = false;",
    tests: ["tests/stream_test.ts", "tests/agui_test.ts"],
  },
  {
    id: "stream-headers",
    promise: "Event streams are sent with X-Accel-Buffering: no so proxies do not buffer them.",
    file: "lib/sse.ts",
    find: `"x-accel-buffering": "no",`,
    replace: "",
    tests: ["tests/stream_test.ts"],
  },
  {
    id: "cors-any-origin",
    promise: "CORS answers only the origins listed in LANTERN_CORS_ORIGINS.",
    file: "lib/app.ts",
    find: `origins.includes(origin) ? origin : null`,
    replace: "origin",
    tests: ["tests/stream_test.ts"],
  },
  {
    id: "replay-off-by-one",
    promise: "A resume after Last-Event-ID N starts exactly at seq N + 1.",
    file: "routes/api/runs.ts",
    find: "  return parsed.data;\n}",
    replace: "  return parsed.data + 1;\n}",
    tests: ["tests/runs_resume_test.ts"],
  },
  {
    id: "ended-run-no-204",
    promise: "A run that ended with nothing after Last-Event-ID answers 204, so EventSource stops.",
    file: "lib/http/run_stream.ts",
    find: "if (!notice) return new Response(null, { status: 204 });",
    replace: "if (!notice) return new Response(new Uint8Array(), { headers });",
    tests: ["tests/runs_resume_test.ts"],
  },
  {
    id: "reply-not-saved",
    promise: "The full reply is recorded in the conversation.",
    file: "lib/runs/live_run.ts",
    find: "    if (reply) op.set(reply.key, reply.stored);\n",
    replace: "",
    tests: ["tests/stream_test.ts", "tests/runs_end_commit_test.ts"],
  },
  {
    id: "feed-append-unchecked",
    promise: "A feed never loses or reuses a number when instances append to it at once.",
    file: "lib/feeds/feed_log.ts",
    find: "    if (heads.length > 0) op.check(...heads);",
    replace: "",
    tests: ["tests/runs_end_commit_test.ts", "tests/feed_test.ts"],
  },
  {
    id: "cancel-not-reaching-engine",
    promise: "Stop aborts the run's AbortSignal, which reaches the engine and its tools.",
    file: "lib/runs/live_run.ts",
    find: /(engine: this\.#ctx\.engine,\n\s*)signal,/,
    replace: "$1signal: new AbortController().signal,",
    tests: ["tests/cancel_reaches_engine_test.ts"],
  },
  {
    id: "auth-off",
    promise: "With LANTERN_AUTH_TOKEN set, the API answers 401 without the token.",
    file: "lib/http/auth.ts",
    find: "if (!auth) return await next();",
    replace: "return await next();",
    tests: ["tests/security_auth_test.ts"],
  },
  {
    id: "csrf-off",
    promise: "A cross-site request cannot change anything (403 cross_site_request).",
    file: "lib/http/csrf.ts",
    find: "if (!UNSAFE.has(c.req.method)) return await next();",
    replace: "return await next();",
    tests: ["tests/security_csrf_test.ts"],
  },
  {
    id: "message-limit",
    promise: "A message over 32 KiB is refused with 413 and changes nothing.",
    file: "lib/schemas.ts",
    find: "export const MAX_MESSAGE_BYTES = 32 * 1024;",
    replace: "export const MAX_MESSAGE_BYTES = 64 * 1024;",
    tests: ["tests/api_test.ts"],
  },
  {
    id: "forget-keeps",
    promise: "Forgetting a memory removes it.",
    file: "lib/store/memories.ts",
    find: "(op) => op.check(entry, count.entry).delete(key).set(",
    replace: "(op) => op.check(entry, count.entry).set(",
    tests: ["tests/api_test.ts", "tests/stores_test.ts"],
  },
  {
    id: "timeline-cancel-state",
    promise: "A stopped run shows the step it was in as stopped and later steps as skipped.",
    file: "lib/timeline.ts",
    find: `return s.status === "pending" ? { ...s, status: "skipped" } : s;`,
    replace: "return s;",
    tests: ["tests/timeline_test.ts"],
  },
  {
    id: "stalled-reader-buffered",
    promise:
      "A stream hands data over only as its client reads: a stalled client costs a cursor, not a buffer.",
    file: "lib/runs/event_stream.ts",
    find: "}, { highWaterMark: 0 });",
    replace: "}, { highWaterMark: 1e6 });",
    tests: ["tests/runs_resume_test.ts"],
  },
  {
    id: "terminal-before-logged",
    promise: "A run's terminal event reaches followers only once it is in the log.",
    file: "lib/runs/live_run.ts",
    find: "      this.#terminal = { event, frame };\n",
    replace: "      this.#terminal = { event, frame };\n      this.feed.push(event, frame);\n",
    tests: ["tests/runs_durability_test.ts"],
  },
  {
    id: "replays-not-shared",
    promise: "Followers replaying from the same position share one log read per batch.",
    file: "lib/runs/feed.ts",
    find: "let reading = this.#reads.get(after);",
    replace: "let reading: Promise<RunEvent[]> | undefined;",
    tests: ["tests/runs_durability_test.ts"],
  },
  {
    id: "large-event-dropped",
    promise: "An event larger than one KV commit is logged whole, never dropped.",
    file: "lib/runs/log_writer.ts",
    find: "        if (!fits) break;",
    replace: "        if (!fits && count > 0) break;",
    more: [{
      file: "lib/runs/log_writer.ts",
      find: "this.#fail(taken[0].run, error);",
      replace: "this.#settle(taken[0]);",
    }],
    tests: ["tests/runs_durability_test.ts"],
  },
  {
    id: "log-gap-skipped",
    promise: "A replay never skips an event the log has lost: it ends with an error.",
    file: "lib/runs/feed.ts",
    find: "if (next.length === 0 || next.some((e, i) => e.seq !== after + 1 + i)) {",
    replace: "if (next.length === 0) {",
    tests: ["tests/runs_log_gap_test.ts"],
  },
  {
    id: "agent-sends-after-abort",
    promise: "Once a run is stopped, its agent sends nothing more: no step, no token, no answer.",
    file: "lib/agent/run_agent.ts",
    find: "    signal.throwIfAborted();\n    emit(event);",
    replace: "    emit(event);",
    tests: ["tests/agent_test.ts"],
  },
  {
    id: "sweep-reads-own-runs",
    promise: "A sweep for orphans reads only other instances' runs, not the thousands this one drives.",
    file: "lib/runs/leases.ts",
    find: '      this.#kv.list<RunningEntry>({ prefix: index, end: runKeys.running(this.#id, "") }),',
    replace: "      this.#kv.list<RunningEntry>({ prefix: index }),",
    tests: ["tests/runs_sweep_test.ts"],
  },
  {
    id: "start-skips-context-checks",
    promise:
      "A run's context is current: another instance's edit or memory is never missed for want of a read.",
    file: "lib/store/recent_context.ts",
    find: "    op.check({ key: messageEditsKey(projectId), versionstamp: copy.edits });\n",
    replace: "",
    tests: ["tests/recent_context_test.ts"],
  },
  {
    id: "own-memory-leaves-count-behind",
    promise:
      "This instance's own memory changes keep its context copy current, so the next run needs no read.",
    file: "lib/store/recent_context.ts",
    find: "        copy.memoryCount = after;\n",
    replace: "",
    tests: ["tests/recent_context_test.ts"],
  },
  {
    id: "agent-holds-the-loop",
    promise: "Runs take turns: one run's whole answer never holds up new requests and other runs' commits.",
    file: "lib/agent/run_agent.ts",
    find: "      await nextTurn();\n",
    replace: "",
    tests: ["tests/runs_turns_test.ts"],
  },
  {
    id: "log-writer-one-turn",
    promise:
      "A run's burst of events, spanning a step's turn of the event loop, goes to the log in one commit.",
    file: "lib/runs/log_writer.ts",
    find: "new Promise((resolve) => setImmediate(() => setImmediate(resolve)))",
    replace: "new Promise((resolve) => setImmediate(resolve))",
    tests: ["tests/log_writer_test.ts"],
  },
  {
    id: "log-commit-jumps-starts",
    promise:
      "A run's start already waiting to commit is not queued in KV behind the run log's larger commit.",
    file: "lib/runs/log_writer.ts",
    find: "      await this.#group.caughtUp();\n",
    replace: "",
    tests: ["tests/log_writer_test.ts"],
  },
  {
    id: "group-stalls-on-bad-value",
    promise: "A value KV cannot store fails its own write only; the shared commits go on.",
    file: "lib/store/group_commit.ts",
    find: "      try {\n        const op = this.kv.atomic();\n        operation.addTo(op);\n",
    replace: "      const op = this.kv.atomic();\n      operation.addTo(op);\n      try {\n",
    tests: ["tests/group_commit_test.ts"],
  },
  {
    id: "failed-start-keeps-context",
    promise: "A start whose check failed leaves no run a stale context to take unread.",
    file: "lib/runs/announce.ts",
    find: "    if (heads === null) stores.context.drop(projectId);\n",
    replace: "",
    tests: ["tests/recent_context_test.ts"],
  },
  {
    id: "deleted-project-context-kept",
    promise:
      "A project deleted and imported again under its id is read anew, not from the deleted one's context.",
    file: "lib/store/recent_context.ts",
    find: '    if (changes.some((change) => change.type === "project.deleted")) {\n',
    replace: "    if (false) {\n",
    tests: ["tests/recent_context_test.ts"],
  },
  {
    id: "stopped-run-forgotten-before-tidy",
    promise:
      "A shutdown waits for a stopped run to tidy up its long reply's parts, however long it was kept.",
    file: "lib/runs/live_runs.ts",
    find: "      if (run.unwound) run.unwound.then(forget, forget);\n      else forget();\n",
    replace: "      forget();\n",
    tests: ["tests/runs_cancel_test.ts"],
  },
  {
    id: "finished-runs-kept-a-minute",
    promise:
      "With the log on, a finished run leaves memory soon after it ends: a busy server does not hoard them.",
    file: "lib/runs/registry.ts",
    find: "  return durable ? RETAIN_MS.logged : RETAIN_MS.unlogged;",
    replace: "  return RETAIN_MS.unlogged;",
    tests: ["tests/runs_memory_test.ts"],
  },
  {
    id: "tokens-held-back",
    promise: "The answer streams token by token while the engine writes it.",
    file: "lib/agent/steps/handlers.ts",
    find: `          if (delta) emit({ type: "token", delta });`,
    replace: `          if (delta) held.push(delta);`,
    more: [{
      file: "lib/agent/steps/handlers.ts",
      find: "      signal.throwIfAborted();\n      const kept = ",
      replace:
        `      for (const delta of held) emit({ type: "token", delta });\n      signal.throwIfAborted();\n      const kept = `,
    }, {
      file: "lib/agent/steps/handlers.ts",
      find: `      const { plan, actions, added, removed } = state;\n`,
      replace: `      const { plan, actions, added, removed } = state;\n      const held: string[] = [];\n`,
    }],
    tests: ["tests/tokens_test.ts", "tests/browser/tokens_test.ts"],
  },
  {
    id: "cancel-no-terminal",
    promise: "A cancelled run ends with one terminal cancelled event naming its step.",
    file: "lib/runs/live_run.ts",
    find: "if (signal.aborted) return endings.cancelled(this.step);",
    replace: "if (signal.aborted) return endings.cancelled(null);",
    tests: ["tests/runs_cancel_test.ts"],
  },
  {
    id: "project-scope",
    promise: "A run of one project cannot be read through another project's path.",
    file: "lib/runs/registry.ts",
    find: "if (live) return live.record.projectId === projectId ? live.snapshot() : null;",
    replace: "if (live) return live.snapshot();",
    tests: ["tests/security_ids_test.ts"],
  },
  {
    id: "shared-commit-same-key",
    promise:
      "Writes that share a commit mean what they mean alone: a check sees an earlier write to its key.",
    file: "lib/store/group_commit.ts",
    find: "        !overlaps(operation.keys, keys);",
    replace: "        true;",
    tests: ["tests/group_commit_test.ts"],
  },
  {
    id: "context-copy-stale",
    promise: "A run's context holds what another instance changed in the conversation.",
    file: "lib/store/recent_context.ts",
    find: "copy.edits === edits.versionstamp &&",
    replace: "true &&",
    tests: ["tests/recent_context_test.ts"],
  },
  {
    id: "run-on-deleted-project",
    promise: "A run never starts in a project another instance deleted.",
    file: "lib/store/projects.ts",
    find: "    if (known) op.check(known);",
    replace: "    if (known && known.value === null) op.check(known);",
    tests: ["tests/runs_known_project_test.ts"],
  },
];
