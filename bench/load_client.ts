/**
 * A load client process, started by bench/run.ts: opens raw loopback sockets
 * to the server under test, drives runs over SSE (see
 * {@linkcode ./client_protocol.ts} for the conversation with the harness),
 * and measures per-event delivery latency, time to first event, seq
 * integrity, and its own CPU and event-loop lag.
 *
 * Run: `deno run --allow-net=127.0.0.1 bench/load_client.ts '<ClientConfig JSON>'`.
 *
 * @module
 */

import process from "node:process";
import { HttpConnection, type ResponseHead, SseParser } from "./sse_client.ts";
import { nowMs, Samples, summarize } from "./stats.ts";
import type {
  ClientConfig,
  ClientCost,
  HoldClientConfig,
  HoldClientResult,
  LoadClientConfig,
  LoadClientResult,
  Mark,
} from "./client_protocol.ts";

const TERMINAL = new Set(["result", "error", "cancelled"]);
const MAX_ERRORS = 10;

// ---------------------------------------------------------------- harness I/O

const stdoutEncoder = new TextEncoder();
const stdinLines = (async function* () {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
})();

function emit(line: string): void {
  const bytes = stdoutEncoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Prints a mark and waits for the harness's `go`. */
async function mark(name: string, extra: Partial<Mark> = {}): Promise<number> {
  const at = nowMs();
  emit(`@mark ${JSON.stringify({ name, at, ...extra })}`);
  const next = await stdinLines.next();
  if (next.done) throw new Error("harness closed stdin");
  return at;
}

function log(config: ClientConfig, message: string): void {
  console.error(`[client ${config.index}] ${message}`);
}

// ------------------------------------------------------------------ cost probe

/** Measures this process's CPU and event-loop lag between start() and stop(). */
class CostProbe {
  #cpu0 = process.cpuUsage();
  #wall0 = nowMs();
  #lags = new Samples(4096);
  #timer: ReturnType<typeof setInterval> | undefined;

  start(intervalMs: number): void {
    this.#cpu0 = process.cpuUsage();
    this.#wall0 = nowMs();
    let last = performance.now();
    this.#timer = setInterval(() => {
      const t = performance.now();
      this.#lags.push(Math.max(0, t - last - intervalMs));
      last = t;
    }, intervalMs);
  }

  stop(): ClientCost {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const cpu = process.cpuUsage(this.#cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const wallSeconds = (nowMs() - this.#wall0) / 1000;
    return {
      cpuSeconds,
      wallSeconds,
      cpuShare: wallSeconds > 0 ? cpuSeconds / wallSeconds : 0,
      lagMs: this.#lags.summary(),
      rssBytes: Deno.memoryUsage().rss,
    };
  }
}

// -------------------------------------------------------------- shared helpers

async function inBatches<T>(count: number, batch: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(batch, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Sends a JSON request on a connection and returns status and parsed body. */
async function jsonRequest(
  conn: HttpConnection,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  let status = 0;
  let text = "";
  const outcome = await conn.request(method, path, body === undefined ? undefined : JSON.stringify(body), {
    head: (h) => status = h.status,
    text: (t) => text += t,
  });
  if (outcome !== "complete") throw new Error(`${method} ${path}: connection closed`);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status, body: parsed };
}

async function makeProjects(config: ClientConfig): Promise<string[]> {
  if (config.projectIds.length > 0) return config.projectIds;
  const perConn = Math.ceil(config.projects / Math.max(1, Math.min(config.connectBatch, 32)));
  const conns = Math.ceil(config.projects / perConn);
  const ids: string[] = [];
  await inBatches(conns, conns, async (c) => {
    const conn = await HttpConnection.open(config.host, config.port, 4096);
    try {
      for (let i = c * perConn; i < Math.min(config.projects, (c + 1) * perConn); i++) {
        const res = await jsonRequest(conn, "POST", "/api/projects", { name: `bench ${i}` });
        const id = (res.body as { id?: string })?.id;
        if (res.status !== 201 || !id) {
          throw new Error(`POST /api/projects → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
        ids[i] = id;
      }
    } finally {
      conn.close();
    }
  });
  return ids;
}

/** Tracks seq integrity of one stream. */
class SeqCheck {
  seen = new Uint8Array(64);
  maxSeq = 0;
  count = 0;
  duplicated = 0;
  outOfOrder = 0;
  terminalSeq = 0;
  terminalType = "";

  observe(seq: number, type: string): void {
    if (!Number.isInteger(seq) || seq < 1) {
      this.outOfOrder++;
      return;
    }
    if (seq >= this.seen.length) {
      const bigger = new Uint8Array(Math.max(seq + 1, this.seen.length * 2));
      bigger.set(this.seen);
      this.seen = bigger;
    }
    if (this.seen[seq]) {
      this.duplicated++;
      return;
    }
    this.seen[seq] = 1;
    this.count++;
    if (seq < this.maxSeq) this.outOfOrder++;
    else this.maxSeq = seq;
    if (TERMINAL.has(type)) {
      this.terminalSeq = seq;
      this.terminalType = type;
    }
  }

  /** Seqs missing below the terminal (or the highest seen). */
  lost(): number {
    const upTo = Math.max(this.terminalSeq, this.maxSeq);
    let missing = 0;
    for (let s = 1; s <= upTo; s++) if (!this.seen[s]) missing++;
    return missing;
  }
}

interface ParsedEvent {
  type: string;
  seq: number;
  ts: number;
}

type Stamp = { seq?: unknown; ts?: unknown } | undefined;

/** The UI message stream's counted parts, by type, and where each carries `seq` and `ts`. */
const UI_PARTS: Record<string, [string, (part: Record<string, unknown>) => Stamp]> = {
  "data-progress": ["progress", (p) => p.data as Stamp],
  "text-delta": ["token", (p) => (p.providerMetadata as { bench?: Stamp } | undefined)?.bench],
  "finish": ["result", (p) => p.messageMetadata as Stamp],
};

/**
 * One event's type, seq and ts; `skip` for a UI message stream's framing
 * (`start`, `text-start`, `text-end`, `[DONE]`), which is sent but not counted;
 * `null` when it cannot be read.
 */
function parseEvent(data: string, protocol: ClientConfig["protocol"]): ParsedEvent | "skip" | null {
  if (protocol === "ui-message" && data === "[DONE]") return "skip";
  try {
    const value = JSON.parse(data) as Record<string, unknown>;
    if (protocol !== "ui-message") {
      return { type: String(value.type ?? ""), seq: Number(value.seq), ts: Number(value.ts) };
    }
    const known = UI_PARTS[String(value.type)];
    if (!known) return value.type === "error" ? { type: "error", seq: NaN, ts: NaN } : "skip";
    const stamp = known[1](value);
    return { type: known[0], seq: Number(stamp?.seq), ts: Number(stamp?.ts) };
  } catch {
    return null;
  }
}

/** Opens the stream of one run on `conn`: POST chat-stream, or POST runs then GET eventsUrl. */
async function streamRun(
  conn: HttpConnection,
  config: ClientConfig,
  projectId: string,
  eventsPath: string | null,
  handlers: {
    sent: (at: number) => void;
    head: (head: ResponseHead, at: number) => void;
    text: (text: string, at: number) => void;
    bytes: (n: number, at: number) => void;
    error: (message: string) => void;
  },
): Promise<boolean> {
  if (eventsPath) {
    const outcome = await conn.request("GET", eventsPath, undefined, handlers);
    return outcome === "complete";
  }
  const body = JSON.stringify({ message: config.message });
  if (config.route === "chat-stream") {
    const outcome = await conn.request("POST", `/api/projects/${projectId}/chat-stream`, body, handlers);
    return outcome === "complete";
  }
  let status = 0;
  let text = "";
  const outcome = await conn.request("POST", `/api/projects/${projectId}/runs`, body, {
    sent: handlers.sent,
    head: (h) => status = h.status,
    text: (t) => text += t,
  });
  if (outcome !== "complete") return false;
  let eventsUrl = "";
  try {
    eventsUrl = String(JSON.parse(text).eventsUrl ?? "");
  } catch { /* reported below */ }
  if (status !== 202 || !eventsUrl) {
    handlers.error(`POST runs → ${status} ${text.slice(0, 200)}`);
    return false;
  }
  const path = eventsUrl.startsWith("http") ? new URL(eventsUrl).pathname : eventsUrl;
  const followed = await conn.request("GET", path, undefined, {
    head: handlers.head,
    text: handlers.text,
    bytes: handlers.bytes,
  });
  return followed === "complete";
}

// ------------------------------------------------------------------ load mode

interface RunOutcome {
  ok: boolean;
  error?: string;
  events: number;
  bytes: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  incomplete: boolean;
  terminalType: string;
  sentAt: number;
  firstEventAt: number;
  endAt: number;
  keepAlives: number;
}

async function oneRun(
  conn: HttpConnection,
  config: ClientConfig,
  projectId: string,
  latencies: Samples | null,
): Promise<RunOutcome> {
  const check = new SeqCheck();
  let sentAt = 0;
  let firstEventAt = 0;
  let lastAt = 0;
  let bytes = 0;
  let status = 0;
  let error: string | undefined;
  let keepAlives = 0;
  let errorBody = "";
  const parser = new SseParser((_id, data, at) => {
    const event = parseEvent(data, config.protocol);
    if (event === "skip") return;
    if (!event) {
      error ??= `unparsable event: ${data.slice(0, 120)}`;
      return;
    }
    if (firstEventAt === 0) firstEventAt = at;
    lastAt = at;
    latencies?.push(at - event.ts);
    check.observe(event.seq, event.type);
  }, () => keepAlives++);
  const ended = await streamRun(conn, config, projectId, null, {
    sent: (at) => sentAt = at,
    head: (h) => status = h.status,
    text: (t, at) => {
      if (status === 200) parser.feed(t, at);
      else errorBody += t;
    },
    bytes: (n) => bytes += n,
    error: (message) => error ??= message,
  });
  if (status !== 200 && !error) error = `HTTP ${status}: ${errorBody.slice(0, 200)}`;
  if (!ended && !error) error = "connection closed before the response ended";
  const incomplete = check.terminalSeq === 0 || !check.seen[1];
  if (incomplete && !error) error = "stream ended without a terminal event";
  return {
    ok: !error,
    error,
    events: check.count,
    bytes,
    lost: check.lost(),
    duplicated: check.duplicated,
    outOfOrder: check.outOfOrder,
    incomplete,
    terminalType: check.terminalType || "none",
    sentAt,
    firstEventAt,
    endAt: lastAt || nowMs(),
    keepAlives,
  };
}

async function runLoad(config: LoadClientConfig): Promise<LoadClientResult> {
  const projects = await makeProjects(config);
  const conns = await inBatches(
    config.concurrency,
    config.connectBatch,
    () => HttpConnection.open(config.host, config.port, config.bufferSize),
  );
  const reopen = async (i: number) => {
    if (conns[i]!.closed) conns[i] = await HttpConnection.open(config.host, config.port, config.bufferSize);
    return conns[i]!;
  };
  const deadlineTimer = setTimeout(() => {
    timedOut = true;
    for (const c of conns) c.close();
  }, Math.max(0, config.deadline - nowMs()));
  let timedOut = false;

  // Warm-up: same sockets, results dropped.
  for (let done = 0; done < config.warmupRuns && !timedOut;) {
    const batch = Math.min(config.concurrency, config.warmupRuns - done, 50);
    await Promise.all(
      Array.from({ length: batch }, async (_, i) => {
        const conn = await reopen(i);
        await oneRun(conn, config, projects[i % projects.length]!, null);
      }),
    );
    done += batch;
  }

  const latencies = new Samples(config.concurrency * config.waves * 32);
  const ttfe = new Samples(config.concurrency * config.waves);
  const runMs = new Samples(config.concurrency * config.waves);
  const eventsPerRun = new Samples(config.concurrency * config.waves);
  const probe = new CostProbe();
  const outcomes: RunOutcome[] = [];
  let activeMs = 0;
  let firstSend = Infinity;
  let lastReceipt = 0;

  await mark("start");
  probe.start(config.lagIntervalMs);
  const measureStart = nowMs();
  for (
    let wave = 0;
    !timedOut && wave < config.maxWaves &&
    (wave < config.waves || nowMs() - measureStart < config.minSeconds * 1000);
    wave++
  ) {
    for (let i = 0; i < conns.length; i++) await reopen(i);
    const results = await Promise.all(
      conns.map((conn, i) => oneRun(conn, config, projects[i % projects.length]!, latencies)),
    );
    let waveStart = Infinity;
    let waveEnd = 0;
    for (const r of results) {
      outcomes.push(r);
      if (r.sentAt) waveStart = Math.min(waveStart, r.sentAt);
      waveEnd = Math.max(waveEnd, r.endAt);
      if (r.firstEventAt) ttfe.push(r.firstEventAt - r.sentAt);
      if (r.ok) runMs.push(r.endAt - r.sentAt);
      eventsPerRun.push(r.events);
    }
    if (Number.isFinite(waveStart)) {
      activeMs += waveEnd - waveStart;
      firstSend = Math.min(firstSend, waveStart);
      lastReceipt = Math.max(lastReceipt, waveEnd);
    }
  }
  const cost = probe.stop();
  await mark("end");
  clearTimeout(deadlineTimer);
  for (const c of conns) c.close();

  const errors: string[] = [];
  const terminalTypes: Record<string, number> = {};
  let events = 0, bytes = 0, lost = 0, duplicated = 0, outOfOrder = 0, incomplete = 0;
  let keepAlives = 0;
  for (const r of outcomes) {
    events += r.events;
    bytes += r.bytes;
    lost += r.lost;
    duplicated += r.duplicated;
    outOfOrder += r.outOfOrder;
    keepAlives += r.keepAlives;
    if (r.incomplete) incomplete++;
    terminalTypes[r.terminalType] = (terminalTypes[r.terminalType] ?? 0) + 1;
    if (r.error && errors.length < MAX_ERRORS) errors.push(r.error);
  }
  return {
    kind: "load",
    index: config.index,
    runs: outcomes.length,
    completed: outcomes.filter((r) => r.ok).length,
    failed: outcomes.filter((r) => !r.ok).length,
    errors,
    events,
    bytes,
    lost,
    duplicated,
    outOfOrder,
    incomplete,
    terminalTypes,
    eventsPerRun: eventsPerRun.summary(),
    bytesPerEvent: events ? bytes / events : 0,
    activeSeconds: activeMs / 1000,
    firstSend: Number.isFinite(firstSend) ? firstSend : 0,
    lastReceipt,
    ttfeMs: ttfe.summary(),
    latencyMs: latencies.summary(),
    runMs: runMs.summary(),
    raw: config.rawSamples
      ? { ttfe: ttfe.toRounded(), latency: latencies.toRounded(), run: runMs.toRounded() }
      : undefined,
    keepAlives,
    cost,
    timedOut,
  };
}

// ------------------------------------------------------------------ hold mode

interface HeldStream {
  conn: HttpConnection | null;
  check: SeqCheck;
  openedAt: number;
  sentAt: number;
  status: number;
  bytes: number;
  windowBytes: number;
  windowEvents: number;
  windowKeepAlives: number;
  done: Promise<boolean> | null;
  endedEarly: boolean;
}

async function runHold(config: HoldClientConfig): Promise<HoldClientResult> {
  const target = config.steps.at(-1) ?? 0;
  const projects = await makeProjects(config);
  const eventsPaths: string[] = [];
  if (config.followers) {
    // One run per project, started up front; every stream follows one of them.
    const conn = await HttpConnection.open(config.host, config.port, 4096);
    try {
      for (const projectId of projects) {
        const res = await jsonRequest(conn, "POST", `/api/projects/${projectId}/runs`, {
          message: config.message,
        });
        const url = String((res.body as { eventsUrl?: string })?.eventsUrl ?? "");
        if (res.status !== 202 || !url) {
          throw new Error(`POST runs → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
        eventsPaths.push(url.startsWith("http") ? new URL(url).pathname : url);
      }
    } finally {
      conn.close();
    }
  }
  const streams: HeldStream[] = [];
  const errors: string[] = [];
  let failed = 0;
  let timedOut = false;
  let inWindow = false;
  let closing = false;
  const openMs = new Samples(target);
  const deadlineTimer = setTimeout(() => {
    timedOut = true;
    closing = true;
    for (const s of streams) s.conn?.close();
  }, Math.max(0, config.deadline - nowMs()));

  const fail = (message: string) => {
    failed++;
    if (errors.length < MAX_ERRORS) errors.push(message);
  };

  /** Opens one stream; resolves once its response head is in (or it failed). */
  const open = async (i: number): Promise<void> => {
    const s: HeldStream = {
      conn: null,
      check: new SeqCheck(),
      openedAt: 0,
      sentAt: 0,
      status: 0,
      bytes: 0,
      windowBytes: 0,
      windowEvents: 0,
      windowKeepAlives: 0,
      done: null,
      endedEarly: false,
    };
    streams.push(s);
    try {
      s.conn = await HttpConnection.open(config.host, config.port, config.bufferSize);
    } catch (err) {
      fail(`connect: ${(err as Error).message}`);
      return;
    }
    let opened!: () => void;
    const headIn = new Promise<void>((r) => opened = r);
    const parser = new SseParser((_id, data) => {
      const event = parseEvent(data, config.protocol);
      if (!event || event === "skip") return;
      s.check.observe(event.seq, event.type);
      if (inWindow) s.windowEvents++;
    }, () => {
      if (inWindow) s.windowKeepAlives++;
    });
    s.done = streamRun(
      s.conn,
      config,
      projects[i % projects.length]!,
      eventsPaths[i % eventsPaths.length] ?? null,
      {
        sent: (at) => s.sentAt = at,
        head: (h, at) => {
          s.status = h.status;
          s.openedAt = at;
          opened();
        },
        text: (t, at) => {
          if (s.status === 200) parser.feed(t, at);
        },
        bytes: (n) => {
          s.bytes += n;
          if (inWindow) s.windowBytes += n;
        },
        error: (message) => fail(message),
      },
    ).then((complete) => {
      if (!closing) s.endedEarly = true;
      opened();
      return complete;
    });
    await headIn;
    if (s.status !== 200) {
      if (s.status !== 0) fail(`HTTP ${s.status}`);
      else if (!closing) fail("closed before the response head");
      s.conn.close();
      return;
    }
    openMs.push(s.openedAt - s.sentAt);
  };

  await mark("ready");
  const probe = new CostProbe();
  probe.start(50);
  let window: HoldClientResult["window"] = null;
  for (const step of config.steps) {
    const from = streams.length;
    await inBatches(step - from, config.connectBatch, (k) => open(from + k));
    if (config.settleMs > 0) await new Promise((r) => setTimeout(r, config.settleMs));
    const open200 = streams.filter((s) => s.status === 200 && !s.endedEarly).length;
    log(config, `step ${step}: ${open200} open, ${failed} failed`);
    await mark(`open-${step}`, { open: open200, failed });
    if (timedOut) break;
  }
  if (config.windowMs > 0 && !timedOut) {
    const start = await mark("window-start");
    inWindow = true;
    await new Promise((r) => setTimeout(r, config.windowMs));
    inWindow = false;
    const end = await mark("window-end");
    const live = streams.filter((s) => s.status === 200);
    window = {
      start,
      end,
      streams: live.length,
      bytes: live.reduce((a, s) => a + s.windowBytes, 0),
      events: live.reduce((a, s) => a + s.windowEvents, 0),
      keepAlives: live.reduce((a, s) => a + s.windowKeepAlives, 0),
      streamsWoken: live.filter((s) => s.windowBytes > 0).length,
    };
  }
  const cost = probe.stop();
  closing = true;
  for (const s of streams) s.conn?.close();
  await Promise.all(streams.map((s) => s.done?.catch(() => false)));
  clearTimeout(deadlineTimer);
  await mark("closed");

  return {
    kind: "hold",
    index: config.index,
    target,
    opened: streams.filter((s) => s.status === 200).length,
    failed,
    errors,
    endedEarly: streams.filter((s) => s.endedEarly).length,
    eventsTotal: streams.reduce((a, s) => a + s.check.count, 0),
    lost: streams.reduce((a, s) => a + (s.check.terminalSeq ? s.check.lost() : 0), 0),
    duplicated: streams.reduce((a, s) => a + s.check.duplicated, 0),
    outOfOrder: streams.reduce((a, s) => a + s.check.outOfOrder, 0),
    window,
    openMs: summarize(openMs.toArray()),
    cost,
    timedOut,
  };
}

// ----------------------------------------------------------------------- main

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0] ?? "{}") as ClientConfig;
  // Hard stop a little after the deadline, whatever happens.
  const hardStop = setTimeout(() => {
    log(config, "hard deadline reached, exiting");
    Deno.exit(3);
  }, Math.max(0, config.deadline - nowMs()) + 10_000);
  Deno.unrefTimer(hardStop);
  try {
    const result = config.kind === "load" ? await runLoad(config) : await runHold(config);
    emit(`@result ${JSON.stringify(result)}`);
    Deno.exit(0);
  } catch (err) {
    log(config, `failed: ${(err as Error).stack ?? err}`);
    emit(`@error ${JSON.stringify(String((err as Error).message ?? err))}`);
    Deno.exit(2);
  }
}
