/**
 * Runs one or more load-client processes (bench/load_client.ts) and keeps
 * them in step: when every live client has printed the same mark, the
 * harness's `onMark` runs (to read the server's counters at that instant) and
 * then every client is told to go on.
 *
 * @module
 */

import type { ClientConfig, ClientResult, Mark } from "./client_protocol.ts";
import { readLines, track, wrapped } from "./servers.ts";

/** Marks of every client at one checkpoint. */
export interface MarkRound {
  name: string;
  marks: Mark[];
}

/** What a group of clients produced. */
export interface ClientsOutcome {
  results: ClientResult[];
  /** Client pids, in config order. */
  pids: number[];
  rounds: MarkRound[];
  errors: string[];
  timedOut: boolean;
}

/** Options of {@linkcode runClients}. */
export interface RunClientsOptions {
  root: string;
  configs: ClientConfig[];
  /** Called once every live client reached a mark; clients wait for it. */
  onMark?: (round: MarkRound) => void | Promise<void>;
  /** Kills the clients after this long, ms. */
  timeoutMs: number;
  /** Prints clients' stderr lines. */
  verbose?: boolean;
  /** Cores to pin the clients to (a `taskset` list), or unpinned. */
  cpus?: string;
}

interface ClientState {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  alive: boolean;
  waitingOn: Mark | null;
  result: ClientResult | null;
}

/** Starts the clients, coordinates their marks, and collects their results. */
export async function runClients(options: RunClientsOptions): Promise<ClientsOutcome> {
  const encoder = new TextEncoder();
  const rounds: MarkRound[] = [];
  const errors: string[] = [];
  const states: ClientState[] = options.configs.map((config) => {
    const child = new Deno.Command("bash", {
      args: wrapped(
        ["deno", "run", "--allow-net=127.0.0.1", "bench/load_client.ts", JSON.stringify(config)],
        options.cpus,
      ),
      cwd: options.root,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    track(child);
    return { child, writer: child.stdin.getWriter(), alive: true, waitingOn: null, result: null };
  });

  let busy = false;
  const maybeRelease = async () => {
    if (busy) return;
    const alive = states.filter((s) => s.alive);
    if (alive.length === 0 || alive.some((s) => s.waitingOn === null)) return;
    const name = alive[0]!.waitingOn!.name;
    if (alive.some((s) => s.waitingOn!.name !== name)) {
      errors.push(`clients disagree on marks: ${alive.map((s) => s.waitingOn!.name).join(", ")}`);
    }
    busy = true;
    const round = { name, marks: alive.map((s) => s.waitingOn!) };
    rounds.push(round);
    try {
      await options.onMark?.(round);
    } catch (err) {
      errors.push(`onMark ${name}: ${(err as Error).message}`);
    }
    for (const s of alive) {
      s.waitingOn = null;
      s.writer.write(encoder.encode("go\n")).catch(() => {});
    }
    busy = false;
    await maybeRelease();
  };

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    for (const s of states) {
      try {
        s.child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }, options.timeoutMs);

  await Promise.all(states.map(async (s, i) => {
    const stderr = readLines(s.child.stderr, (line) => {
      if (options.verbose || /error|failed|deadline/i.test(line)) console.error(`  [client ${i}] ${line}`);
    }).catch(() => {});
    await readLines(s.child.stdout, (line) => {
      if (line.startsWith("@mark ")) {
        s.waitingOn = JSON.parse(line.slice(6)) as Mark;
        maybeRelease();
      } else if (line.startsWith("@result ")) {
        s.result = JSON.parse(line.slice(8)) as ClientResult;
      } else if (line.startsWith("@error ")) {
        errors.push(`client ${i}: ${JSON.parse(line.slice(7))}`);
      }
    }).catch(() => {});
    const status = await s.child.status;
    await stderr;
    s.alive = false;
    s.writer.close().catch(() => {});
    if (status.code !== 0 && !s.result) errors.push(`client ${i} exited with ${status.code}`);
    await maybeRelease();
  }));
  clearTimeout(timer);
  return {
    results: states.map((s) => s.result).filter((r): r is ClientResult => r !== null),
    pids: states.map((s) => s.child.pid),
    rounds,
    errors,
    timedOut,
  };
}
