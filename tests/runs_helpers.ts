/**
 * Helpers for the durable-run tests (tests/runs_*_test.ts): starting runs,
 * following them over HTTP, reading part of a stream, polling, and a server
 * assembled by hand when a test needs registry options that the environment
 * does not set.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createEngine } from "../lib/agent/engines.ts";
import type {
  Analysis,
  Engine,
  EngineContext,
  EngineNote,
  EngineToken,
  Outcome,
} from "../lib/agent/engine.ts";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import { sleep } from "../lib/agent/sleep.ts";
import type { PlanProblem } from "../lib/agent/tools.ts";
import { createApp } from "../lib/app.ts";
import { loadConfig } from "../lib/config.ts";
import type { PlanAction, RunEvent, RunRecord, RunStarted, StepName } from "../lib/protocol.ts";
import { type RegistryOptions, RunRegistry } from "../lib/runs/registry.ts";
import { createStores, openKv, type Stores } from "../lib/store/mod.ts";
import { call, readEvents, startServer, TEST_ENV, type TestServer } from "./helpers.ts";

/**
 * What every durable-run test adds to the test environment: these tests
 * start many runs and streams from one client, which the rate limits and
 * stream caps (tested on their own) would refuse.
 */
export const RUNS_ENV: Record<string, string> = { LANTERN_LIMITS: "off" };

/** {@linkcode startServer} with {@linkcode RUNS_ENV}. */
export function startRunsServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ ...RUNS_ENV, ...env });
}

/** A run event as a test compares it: without the arrival time. */
export type Plain = RunEvent;

/** Removes the `at` field {@linkcode collectRunEvents} adds. */
export function plain(events: (RunEvent & { at?: number })[]): Plain[] {
  return events.map(({ at: _at, ...event }) => event as Plain);
}

/** Starts a run with `POST /runs` and checks the 202. */
export async function startRun(url: string, projectId: string, message: string): Promise<RunStarted> {
  const res = await call<RunStarted>(`${url}/api/projects/${projectId}/runs`, { body: { message } });
  if (res.status !== 202) {
    throw new Error(`Starting a run answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/** Options of {@linkcode follow}. */
export interface FollowOptions {
  /** Resume after this seq. */
  after?: number;
  /** How to say so: the `Last-Event-ID` header (default) or `?lastEventId=`. */
  via?: "header" | "query";
  client?: Deno.HttpClient;
  signal?: AbortSignal;
}

/** Requests a run's events (the response is not read). */
export function openEvents(url: string, eventsUrl: string, options: FollowOptions = {}): Promise<Response> {
  const { after, via = "header" } = options;
  const target = new URL(`${url}${eventsUrl}`);
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (after !== undefined) {
    if (via === "header") headers["last-event-id"] = String(after);
    else target.searchParams.set("lastEventId", String(after));
  }
  return fetch(target, { headers, client: options.client, signal: options.signal });
}

/** Follows a run's events to the end: the status, and every event in order. */
export async function follow(
  url: string,
  eventsUrl: string,
  options: FollowOptions = {},
): Promise<{ status: number; events: Plain[]; headers: Headers }> {
  const res = await openEvents(url, eventsUrl, options);
  if (res.status !== 200) {
    await res.text();
    return { status: res.status, events: [], headers: res.headers };
  }
  const events: Plain[] = [];
  for await (const message of readEvents(res)) events.push(JSON.parse(message.data) as Plain);
  return { status: res.status, events, headers: res.headers };
}

/** What {@linkcode readToEnd} gives: the events read, and the error that cut the stream short, if one did. */
export interface ReadToEnd {
  events: Plain[];
  error?: unknown;
}

/**
 * Reads an event-stream response to its end; the promise never rejects. A
 * read that fails (the server was killed under it, say) gives its error
 * as `error`, with the events read before it.
 *
 * For followers opened now and awaited later: a rejection left dangling
 * meanwhile is uncaught when it happens. Should the test fail before it
 * awaits them, its `finally` kills the server, the cut reads reject ("error
 * reading a body from connection"), and unhandled they cancel the test and
 * hide why it failed.
 *
 * @example
 * ```ts
 * import { readToEnd } from "./runs_helpers.ts";
 * const body = 'id: 1\ndata: {"type":"token","runId":"r","seq":1,"ts":0,"delta":"hi"}\n\n';
 * const { events, error } = await readToEnd(new Response(body));
 * console.log(events.length, error); // 1 undefined
 * ```
 */
export async function readToEnd(res: Response): Promise<ReadToEnd> {
  const events: Plain[] = [];
  try {
    for await (const message of readEvents(res)) events.push(JSON.parse(message.data) as Plain);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

/**
 * Reads a stream until an event matches, and hands back what it read and an
 * iterator for the rest (call `rest.return()` to hang up).
 */
export async function readUntil(
  res: Response,
  match: (event: Plain) => boolean,
): Promise<{ events: (Plain & { at: number })[]; rest: AsyncGenerator<Plain & { at: number }> }> {
  const source = readEvents(res);
  async function* rest(): AsyncGenerator<Plain & { at: number }> {
    for await (const message of source) yield { ...(JSON.parse(message.data) as Plain), at: message.at };
  }
  const iterator = rest();
  const events: (Plain & { at: number })[] = [];
  while (true) {
    const next = await iterator.next();
    if (next.done) throw new Error(`The stream ended before the awaited event; got ${events.length} events.`);
    events.push(next.value);
    if (match(next.value)) return { events, rest: iterator };
  }
}

/** Reads what is left of a stream started by {@linkcode readUntil}. */
export async function drain<T>(rest: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const event of rest) out.push(event);
  return out;
}

/** Whether an event is the start of a step. */
export function stepStart(step: StepName): (event: Plain) => boolean {
  return (event) =>
    event.type === "progress" && event.progress.step === step && event.progress.phase === "start";
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads a run's record, waiting (long-poll) up to `waitS` for it to end. */
export async function runRecord(
  url: string,
  projectId: string,
  runId: string,
  waitS = 0,
): Promise<RunRecord> {
  const query = waitS > 0 ? `?wait=${waitS}` : "";
  const res = await call<RunRecord>(`${url}/api/projects/${projectId}/runs/${runId}${query}`);
  if (res.status !== 200) throw new Error(`Reading run ${runId} answered ${res.status}.`);
  return res.body;
}

/** The record of a run still `running`, as an instance that died mid-run left it. */
export function orphanRecord(projectId: string, runId: string, messageId: string, owner: string): RunRecord {
  return {
    id: runId,
    projectId,
    message: "help",
    status: "running",
    createdAt: new Date().toISOString(),
    endedAt: null,
    durationMs: null,
    lastSeq: 0,
    owner,
    messageId,
    engine: "local",
    result: null,
    error: null,
    usage: null,
  };
}

/** A temporary KV file path (its folder is removed by the returned disposer). */
export async function tempKvPath(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "lantern-runs-" });
  return {
    path: `${dir}/lantern.kv`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

/** Changes a {@linkcode TestEngine} makes to the local engine. */
export interface EngineHooks {
  /** Replaces the plan when it returns one. */
  plan?: (ctx: EngineContext) => PlanAction[] | undefined;
  /** Replaces the pause at each step. */
  pace?: (step: StepName, signal: AbortSignal) => Promise<void>;
  /** Replaces the answer when it returns one. */
  answer?: (ctx: EngineContext) => AsyncGenerator<EngineNote | EngineToken, void, void> | undefined;
}

/** The local engine with hooks, for runs that fail or misbehave on purpose. */
export class TestEngine implements Engine {
  readonly name = "local";
  readonly model = "local";
  readonly replansInvalid = false;
  #base: LocalEngine;
  #hooks: EngineHooks;

  /** Wraps a local engine (by default an unpaced one). */
  constructor(hooks: EngineHooks, base = new LocalEngine()) {
    this.#hooks = hooks;
    this.#base = base;
  }

  /** The hook's pause, or the local engine's. */
  pace(step: StepName, signal: AbortSignal): Promise<void> {
    return this.#hooks.pace?.(step, signal) ?? this.#base.pace(step, signal);
  }

  /** The local engine's analysis. */
  analyze(ctx: EngineContext): AsyncGenerator<EngineNote, Analysis, void> {
    return this.#base.analyze(ctx);
  }

  /** The hook's plan, or the local engine's. */
  async *plan(
    ctx: EngineContext,
    analysis: Analysis,
    _problems?: PlanProblem[],
  ): AsyncGenerator<EngineNote, PlanAction[], void> {
    return this.#hooks.plan?.(ctx) ?? (yield* this.#base.plan(ctx, analysis));
  }

  /** The hook's answer, or the local engine's. */
  answer(
    ctx: EngineContext,
    analysis: Analysis,
    outcome: Outcome,
  ): AsyncGenerator<EngineNote | EngineToken, void, void> {
    return this.#hooks.answer?.(ctx) ?? this.#base.answer(ctx, analysis, outcome);
  }
}

/** An engine whose answer also reports `notes` large progress updates (about 8 MB in all). */
export function bulkyEngine(notes = 400, size = 20_000): TestEngine {
  return new TestEngine({
    answer: (ctx) =>
      ctx.message === "bulk"
        ? (async function* () {
          for (let i = 0; i < notes; i++) {
            yield { kind: "note", message: `Note ${i}`, details: String(i % 10).repeat(size) };
            // Let the event loop breathe, as a real engine waiting on a model does.
            if (i % 20 === 0) await sleep(1, ctx.signal);
          }
          yield { kind: "token", delta: "Done." };
        })()
        : undefined,
  });
}

/** A server assembled by hand, with registry options the environment does not set. */
export interface CustomServer {
  url: string;
  runs: RunRegistry;
  stores: Stores;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the real app over a {@linkcode RunRegistry} built with `options`
 * (such as a small `maxEventsInMemory`), an optional engine, and optional
 * changes to the stores.
 */
export async function startCustomServer(
  env: Record<string, string>,
  options: Partial<RegistryOptions> & { engine?: Engine; patchStores?: (stores: Stores) => void } = {},
): Promise<CustomServer> {
  const config = loadConfig({ ...TEST_ENV, ...RUNS_ENV, ...env });
  const kv = await openKv(config.kvPath);
  const stores = createStores(kv, config.bounds, config.runTtlMs);
  options.patchStores?.(stores);
  const { engine, patchStores: _, ...rest } = options;
  const runs = new RunRegistry({
    stores,
    engine: engine ?? await createEngine(config),
    runTtlMs: config.runTtlMs,
    leaseMs: config.leaseMs,
    durableLog: config.runLog,
    ...rest,
  });
  await runs.init();
  const app = createApp({ config, stores, runs });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const stopping = server.shutdown();
    await runs.close(0);
    await stopping;
    kv.close();
  };
  return { url: `http://127.0.0.1:${server.addr.port}`, runs, stores, close, [Symbol.asyncDispose]: close };
}

/**
 * Follows a run from the start and, as each event arrives (so while the run
 * still goes), opens a resume after that seq and one after half of it. Every
 * resume must get exactly the unbroken stream's tail.
 */
export async function resumeFromEverySeqWhileRunning(
  followUrl: string,
  eventsUrl: string,
  first: Response,
): Promise<{ unbroken: Plain[]; resumes: number }> {
  const resumes: Promise<{ after: number; status: number; events: Plain[] }>[] = [];
  const resume = (after: number, via: "header" | "query") => {
    const resumed = follow(followUrl, eventsUrl, { after, via }).then((r) => ({ after, ...r }));
    // Awaited at the end; caught now, so one that fails meanwhile is not an uncaught rejection.
    resumed.catch(() => {});
    resumes.push(resumed);
  };
  resume(0, "query");
  const unbroken: Plain[] = [];
  for await (const message of readEvents(first)) {
    const event = JSON.parse(message.data) as RunEvent;
    unbroken.push(event);
    resume(event.seq, event.seq % 2 === 0 ? "header" : "query");
    resume(Math.floor(event.seq / 2), event.seq % 2 === 0 ? "query" : "header");
  }
  const results = await Promise.all(resumes);
  const last = unbroken.length;
  const covered = new Set<number>();
  for (const { after, status, events } of results) {
    covered.add(after);
    if (after === last) {
      // Opened as the terminal event arrived: 204, or 200 with nothing after it.
      assert.ok(status === 204 || (status === 200 && events.length === 0), `after ${after}: ${status}`);
      continue;
    }
    assert.equal(status, 200, `after ${after}`);
    assert.deepEqual(events, unbroken.slice(after), `after ${after}`);
  }
  for (let k = 0; k <= last; k++) assert.ok(covered.has(k), `resumed after ${k}`);
  return { unbroken, resumes: results.length };
}

/** A {@linkcode TestEngine} whose answer waits for the test before each token after the first. */
export interface GatedTokens {
  engine: TestEngine;
  /** The answer's tokens, in order. */
  tokens: string[];
  /** Lets the engine send its next token. */
  release(): void;
}

/**
 * An engine that answers with `tokens`, sending the first at once and each
 * next one only after {@linkcode GatedTokens.release}: a test can prove that
 * a token reached its client before the engine has even produced the rest
 * (so before the run could end), whatever the machine's speed.
 *
 * @example
 * ```ts
 * import { gatedTokens } from "./runs_helpers.ts";
 * const gates = gatedTokens(["One ", "two."]);
 * console.log(gates.engine.name); // local
 * gates.release(); // the engine may now send "two."
 * ```
 */
export function gatedTokens(tokens: string[]): GatedTokens {
  let permits = 0;
  let wake: (() => void) | null = null;
  const release = () => {
    permits++;
    wake?.();
  };
  const permit = async (signal: AbortSignal) => {
    while (permits === 0) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          wake = null;
          resolve();
        };
        wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
    permits--;
  };
  const engine = new TestEngine({
    answer: (ctx) =>
      (async function* () {
        for (const [i, delta] of tokens.entries()) {
          if (i > 0) await permit(ctx.signal);
          yield { kind: "token" as const, delta };
        }
      })(),
  });
  return { engine, tokens, release };
}
