/**
 * Test helpers: a real Lantern on loopback (in-process or as a child
 * process), JSON calls, and an event-stream reader built on
 * eventsource-parser (an independent parser).
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import { loadConfig } from "../lib/config.ts";
import type { Engine } from "../lib/agent/engine.ts";
import { type AgentStores, runAgent } from "../lib/agent/run_agent.ts";
import type { AgentEvent, Project, RunEvent } from "../lib/protocol.ts";
import { createLantern, type Lantern } from "../lib/server.ts";

/** A server started by {@linkcode startServer}. */
export interface TestServer {
  url: string;
  lantern: Lantern;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Environment for tests: in-memory KV, no pacing. Override per test. */
export const TEST_ENV: Record<string, string> = {
  LANTERN_KV_PATH: ":memory:",
  LANTERN_LOCAL_PACE_MS: "0",
  LANTERN_LOCAL_TOKEN_MS: "0",
  LANTERN_HEARTBEAT_MS: "15000",
  // Tests of the limits turn them on themselves.
  LANTERN_LIMITS: "off",
  // Request and run log lines (issue 17) would flood the test output.
  LANTERN_LOG: "off",
};

/** Starts Lantern in this process on a free loopback port. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const lantern = await createLantern(loadConfig({ ...TEST_ENV, ...env }));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, lantern.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const stopping = server.shutdown();
    await lantern.close(0);
    await stopping;
  };
  return { url, lantern, close, [Symbol.asyncDispose]: close };
}

/** A JSON request; returns status, headers and the parsed body. */
export async function call<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    body: init.body === undefined
      ? undefined
      : typeof init.body === "string"
      ? init.body
      : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch { /* not JSON: keep the text */ }
  return { status: res.status, headers: res.headers, body: body as T };
}

/** Creates a project through the API. */
export async function createProject(url: string, name = "Test project"): Promise<Project> {
  const { status, body } = await call<Project>(`${url}/api/projects`, { body: { name } });
  if (status !== 201) throw new Error(`Creating a project answered ${status}.`);
  return body;
}

/** One parsed event-stream message, with the time it arrived. */
export interface Received {
  id: string | undefined;
  event: string | undefined;
  data: string;
  at: number;
}

/** Reads an event-stream response incrementally with eventsource-parser. */
export async function* readEvents(response: Response): AsyncGenerator<Received> {
  if (!response.body) return;
  const stream = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  for await (const message of stream) {
    yield {
      id: message.id,
      event: message.event,
      data: message.data,
      at: performance.timeOrigin + performance.now(),
    };
  }
}

/** Collects every run event of an event-stream response until it ends. */
export async function collectRunEvents(response: Response): Promise<(RunEvent & { at: number })[]> {
  const out: (RunEvent & { at: number })[] = [];
  for await (const message of readEvents(response)) {
    out.push({ ...(JSON.parse(message.data) as RunEvent), at: message.at });
  }
  return out;
}

/** Starts a chat-stream run and returns the response. */
export function chatStream(url: string, projectId: string, message: string): Promise<Response> {
  return fetch(`${url}/api/projects/${projectId}/chat-stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
}

/** A free loopback port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Lantern as a child process (for kill and restart tests). */
export interface ChildServer {
  url: string;
  process: Deno.ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode spawnServer}. */
export interface SpawnOptions {
  /** The module to run: `main.ts` (run with `deno run -A`), or another, run with `args` alone. */
  entry?: string;
  /** Arguments after `deno run -A main.ts`, or the whole command line for another entry. */
  args?: string[];
  /**
   * How many isolates must answer before the server counts as started: the
   * `DENO_JOBS` of `deno serve --parallel`. Each isolate starts listening
   * only once it has loaded its module and opened its registry, so the first
   * to answer says nothing of the others (default 1).
   */
  isolates?: number;
}

/**
 * The instance id of the isolate that answers a fresh connection (`/readyz`
 * on a client of its own, so `deno serve --parallel` may route it to any
 * isolate that listens). `signal` aborts the request.
 *
 * @example
 * ```ts
 * import { isolateOf, startServer } from "./helpers.ts";
 * await using server = await startServer();
 * console.log(await isolateOf(server.url) === server.lantern.runs.instanceId); // true
 * ```
 */
export async function isolateOf(url: string, signal?: AbortSignal): Promise<string> {
  const client = Deno.createHttpClient({});
  try {
    const res = await fetch(`${url}/readyz`, { client, signal });
    const body = await res.json() as { instanceId?: unknown };
    if (typeof body.instanceId !== "string") {
      throw new Error(`/readyz answered ${res.status} without an instance id: ${JSON.stringify(body)}`);
    }
    return body.instanceId;
  } finally {
    client.close();
  }
}

/**
 * Starts `main.ts` (or another entry) as a child process and waits until it
 * listens: until `isolates` different isolates have answered.
 */
export async function spawnServer(
  env: Record<string, string>,
  { entry = "main.ts", args = [], isolates = 1 }: SpawnOptions = {},
): Promise<ChildServer> {
  const port = Number(env.PORT ?? freePort());
  const process = new Deno.Command(Deno.execPath(), {
    args: entry === "main.ts" ? ["run", "-A", "main.ts", ...args] : args,
    env: { ...TEST_ENV, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("..", import.meta.url).pathname,
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  let exit: Deno.CommandStatus | null = null;
  const exited = process.status.then((status) => exit = status);
  const url = `http://127.0.0.1:${port}`;
  // On 2 loaded cores a child took 10 s to listen, and over 20 s with a CPU burner beside it.
  const deadline = Date.now() + 60_000;
  const answered = new Set<string>();
  let probes = 0;
  let lastError: unknown = null;
  while (true) {
    // A probe gives up after 5 s (then a new connection is tried): whatever
    // holds the port may never answer, and one stuck connection must not
    // spend the whole deadline.
    const signal = AbortSignal.timeout(Math.max(100, Math.min(5_000, deadline - Date.now())));
    probes++;
    try {
      if (isolates <= 1) {
        // Any answer will do; read whole, so nothing of it stays open.
        await (await fetch(`${url}/api/projects`, { signal })).text();
        break;
      }
      answered.add(await isolateOf(url, signal));
      if (answered.size >= isolates) break;
    } catch (error) {
      lastError = error; // not listening yet
    }
    if (exit !== null || Date.now() > deadline) {
      const why = `${exit === null ? "within 60 s" : `before it exited (${JSON.stringify(exit)})`}` +
        ` (${probes} probes; the last failure: ${lastError})`;
      try {
        process.kill("SIGKILL");
      } catch { /* already gone */ }
      await exited;
      await pumps;
      throw new Error(
        isolates <= 1
          ? `The server did not answer ${why}:\n${text}`
          : `Only ${answered.size} of ${isolates} isolates answered ${why}:\n${text}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    process,
    output: () => text,
    async kill(signal: Deno.Signal = "SIGTERM") {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      const status = await process.status;
      await pumps;
      return status;
    },
  };
}

/** Waits (bounded) until a condition holds; not a timing assertion. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting: ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A small seeded generator (mulberry32), so a failing random test can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Resolves with `promise`, or fails with a message naming `what` after `ms`:
 * a deadline on a wait (so a broken promise fails instead of hanging the
 * suite), never a timing assertion.
 *
 * @example
 * ```ts
 * import { within } from "./helpers.ts";
 * console.log(await within("a quick answer", Promise.resolve(42))); // 42
 * ```
 */
export async function within<T>(what: string, promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Gave up after ${ms} ms waiting for ${what}.`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The seed of the randomized fault tests when `FAULTS_SEED` is not set: each run tests the same cases. */
export const DEFAULT_SEED = 20_261_129;

/**
 * The seed of a randomized test: `FAULTS_SEED` (a whole number) or {@linkcode DEFAULT_SEED}.
 *
 * @example
 * ```ts
 * import { testSeed } from "./helpers.ts";
 * console.log(Number.isSafeInteger(testSeed())); // true
 * ```
 */
export function testSeed(): number {
  const raw = Deno.env.get("FAULTS_SEED");
  if (raw === undefined || raw === "") return DEFAULT_SEED;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FAULTS_SEED must be a whole number, got "${raw}".`);
  return seed;
}

/**
 * Runs a randomized test body with its seed; when it fails, the error says
 * which seed replays it (`FAULTS_SEED=<seed>`).
 *
 * @example
 * ```ts
 * import { withSeed } from "./helpers.ts";
 * await withSeed(async (seed, random) => {
 *   console.log(random() < 1); // true, and the same numbers for the same seed
 * });
 * ```
 */
export async function withSeed(fn: (seed: number, random: () => number) => Promise<void>): Promise<void> {
  const seed = testSeed();
  try {
    await fn(seed, seededRandom(seed));
  } catch (error) {
    console.error(`Failed with seed ${seed}; replay it with FAULTS_SEED=${seed}.`);
    if (error instanceof Error) error.message = `[FAULTS_SEED=${seed}] ${error.message}`;
    throw error;
  }
}

/** Records the user's message as the run registry does, then drives the agent to its end and returns its events. */
export async function agentEvents(
  stores: AgentStores,
  project: Project,
  message: string,
  engine: Engine,
  runId: string,
): Promise<AgentEvent[]> {
  const userMessage = await stores.messages.add(project.id, { role: "user", content: message, runId });
  const events: AgentEvent[] = [];
  const signal = new AbortController().signal;
  await runAgent({ runId, project, userMessage, stores, engine, signal }, (e) => events.push(e));
  return events;
}

/**
 * Starts `serve.ts` under `deno serve --parallel` with two isolates over
 * `env`, counted as started once both have answered.
 */
export async function spawnParallel(env: Record<string, string>): Promise<ChildServer> {
  const port = freePort();
  return await spawnServer({ ...env, DENO_JOBS: "2", PORT: String(port) }, {
    entry: "serve.ts",
    args: ["serve", "--parallel", "-A", "--host", "127.0.0.1", "--port", String(port), "serve.ts"],
    // Each isolate listens once it has started: the first to answer says nothing of the other.
    isolates: 2,
  });
}

/**
 * Runs a repository script (`deno run -A --unstable-kv …args`) from the
 * repository's root and returns its exit code and output, stdout then stderr.
 */
export async function runScript(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", ...args],
    cwd: new URL("..", import.meta.url).pathname,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

/** An in-memory KV whose real commits are counted. */
export async function countingKv(): Promise<{ kv: Deno.Kv; commits: () => number }> {
  const kv = await Deno.openKv(":memory:");
  let commits = 0;
  const atomic = kv.atomic.bind(kv);
  kv.atomic = () => {
    const op = atomic();
    const commit = op.commit.bind(op);
    op.commit = () => {
      commits++;
      return commit();
    };
    return op;
  };
  return { kv, commits: () => commits };
}
