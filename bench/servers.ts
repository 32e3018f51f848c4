/**
 * Starts and stops the servers under test as child processes on loopback:
 * Lantern (main.ts), the stand-in, the baseline and the AI SDK peer (Node).
 * Each runs under `setpriv --pdeathsig KILL` (it dies with the harness) with
 * the open-files limit raised to the hard limit, optionally pinned to some
 * cores with `taskset`.
 *
 * @module
 */

import { nowMs } from "./stats.ts";

/** The AI SDK peer's folder, relative to the repository root. */
export const PEER_DIR = "bench/ai_sdk_peer";

/** Which server a phase runs against. */
export type ServerKind = "lantern" | "standin" | "baseline" | "peer";

/** A running server. */
export interface ServerHandle {
  kind: ServerKind;
  pid: number;
  port: number;
  /** Last lines it printed (stdout and stderr), for error reports. */
  logTail: string[];
  /** Stops it (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
}

const live = new Set<Deno.ChildProcess>();

/** Every child started by this module and not yet ended (for emergency kill). */
export function liveChildren(): Set<Deno.ChildProcess> {
  return live;
}

/** Registers a child so {@linkcode killAll} can end it. */
export function track(child: Deno.ChildProcess): void {
  live.add(child);
  child.status.finally(() => live.delete(child));
}

/** Kills every tracked child at once (SIGKILL); used on abort. */
export function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** A free loopback TCP port (bound then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * `bash -c` prefix that raises the fd limit and ties the child's life to ours;
 * with `cpus` (a `taskset` list such as `0` or `0,1`), pins it to those cores.
 */
export function wrapped(argv: string[], cpus?: string): string[] {
  const nice = niceness === 0 ? "" : `nice -n ${niceness} `;
  if (cpus !== undefined && !/^[0-9]+([,-][0-9]+)*$/.test(cpus)) {
    throw new Error(`A CPU list must look like "0" or "0,1", got "${cpus}".`);
  }
  const pin = cpus === undefined ? "" : `taskset -c ${cpus} `;
  return [
    "-c",
    `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${nice}${pin}setpriv --pdeathsig KILL -- "$@"`,
    "bench",
    ...argv,
  ];
}

let niceness = 0;

/**
 * Runs every later server and client at this niceness (negative needs root):
 * on a shared machine, -10 keeps other work from skewing the figures.
 */
export function setNiceness(value: number): void {
  if (!Number.isInteger(value) || value < -20 || value > 19) throw new Error(`--nice: ${value}`);
  niceness = value;
}

/** Reads a stream line by line, calling `onLine` for each. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  if (pending) onLine(pending);
}

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  kind: ServerKind;
  /** Repository root (cwd of the server). */
  root: string;
  env: Record<string, string>;
  /** How long to wait for "Listening on", ms. */
  readyTimeoutMs: number;
  /** Extra `deno run` (or `node`, for the peer) flags, such as `--cpu-prof`. */
  denoFlags?: string[];
  /** Cores to pin the server to (a `taskset` list), or unpinned. */
  cpus?: string;
  /** How long `stop()` waits after SIGTERM before SIGKILL, ms (a profiler needs time to write). */
  stopGraceMs?: number;
}

function serverArgv(kind: ServerKind, flags: string[]): string[] {
  switch (kind) {
    case "lantern":
      // BENCH_LANTERN_MAIN runs another script in Lantern's place (bench/durable_floor_server.ts).
      return ["deno", "run", ...flags, "--allow-all", Deno.env.get("BENCH_LANTERN_MAIN") || "main.ts"];
    case "standin":
      return [
        "deno",
        "run",
        ...flags,
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        "bench/standin_server.ts",
      ];
    case "peer":
      // The newest Node from npm, installed in the peer's folder (see bench/peer.ts).
      return [`${PEER_DIR}/node_modules/.bin/node`, ...flags, `${PEER_DIR}/server.cjs`];
    case "baseline":
      return [
        "deno",
        "run",
        ...flags,
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read=/proc",
        "bench/baseline_server.ts",
      ];
  }
}

/**
 * Starts a server on a free loopback port and waits until it prints
 * "Listening on http://127.0.0.1:PORT" and answers GET /api/projects.
 */
export async function startServer(options: StartOptions): Promise<ServerHandle> {
  const port = freePort();
  const env: Record<string, string> = {
    // Request and run log lines (issue 17) cost time a benchmark should not measure.
    LANTERN_LOG: "off",
    ...options.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    NO_COLOR: "1",
  };
  const child = new Deno.Command("bash", {
    args: wrapped(serverArgv(options.kind, options.denoFlags ?? []), options.cpus),
    cwd: options.root,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  track(child);
  const logTail: string[] = [];
  let listening!: () => void;
  const ready = new Promise<void>((r) => listening = r);
  const onLine = (line: string) => {
    logTail.push(line);
    if (logTail.length > 40) logTail.shift();
    if (line.includes(`Listening on http://127.0.0.1:${port}`)) listening();
  };
  readLines(child.stdout, onLine).catch(() => {});
  readLines(child.stderr, onLine).catch(() => {});
  const exited = child.status.then((s) => s.code);

  let stopped = false;
  const stop = async () => {
    if (stopped) return void await exited;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const grace = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, options.stopGraceMs ?? 3000);
    await exited;
    clearTimeout(grace);
  };

  const deadline = nowMs() + options.readyTimeoutMs;
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), options.readyTimeoutMs));
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    exited.then(() => "exited" as const),
    timeout,
  ]);
  if (outcome !== "ready") {
    await stop();
    throw new Error(
      `${options.kind} server did not start (${outcome}):\n  ${logTail.slice(-15).join("\n  ")}`,
    );
  }
  // Confirm it answers HTTP before handing it over.
  while (nowMs() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/projects`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status < 500) break;
    } catch {
      // Not yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { kind: options.kind, pid: child.pid, port, logTail, stop, exited };
}
