/**
 * `deno task soak [--minutes N] [--fd-limit N]`: Lantern (main.ts, a child process on a KV
 * file) under mixed traffic for N minutes (default 10): runs streamed to the
 * end, followers of runs (some leave early), clients that disconnect
 * mid-stream, abandoned `?wait=` long-polls, connection floods, stalled
 * bodies, and projects deleted with their runs. Each minute it prints the
 * server's RSS and open descriptors and the p99 latency of a probe
 * (`GET /api/projects` every 100 ms) and of 20 requests right after each
 * flood; `--fd-limit` runs the server under `ulimit -n N` so that floods
 * exhaust its descriptors. At the end, the slope of RSS and fds
 * over the last 5 minutes (the second half of a shorter run), in % per
 * minute (flat is under 1).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { countFds, readProc } from "./proc_stats.ts";
import { summarize } from "./stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { minutes: { type: "string", default: "10" }, "fd-limit": { type: "string", default: "" } },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a number above 0, got "${values.minutes}".`);
// `--fd-limit N` runs the server under `ulimit -n N`, so that floods exhaust its descriptors.
const fdLimit = values["fd-limit"] === "" ? null : Number(values["fd-limit"]);
if (fdLimit !== null && !(Number.isInteger(fdLimit) && fdLimit > 64)) {
  throw new Error(`--fd-limit must be a whole number above 64, got "${values["fd-limit"]}".`);
}

const dir = await Deno.makeTempDir({ prefix: "lantern-soak-" });
const port = (() => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
})();
const url = `http://127.0.0.1:${port}`;
const child = new Deno.Command(fdLimit === null ? Deno.execPath() : "sh", {
  args: fdLimit === null
    ? ["run", "-A", "main.ts"]
    : ["-c", `ulimit -n ${fdLimit}; exec "${Deno.execPath()}" run -A main.ts`],
  cwd: new URL("..", import.meta.url).pathname,
  env: {
    PORT: String(port),
    LANTERN_KV_PATH: `${dir}/soak.kv`,
    LANTERN_LOCAL_PACE_MS: "20",
    LANTERN_LOCAL_TOKEN_MS: "2",
    LANTERN_LIMITS: "off",
    LANTERN_BODY_TIMEOUT_MS: "2000",
    LANTERN_HEARTBEAT_MS: "5000",
  },
  stdout: "null",
  stderr: "piped",
}).spawn();
let serverLog = "";
const logPump = (async () => {
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) serverLog += chunk;
})();

const counts = { ok: 0, refused: 0, failed: 0, floods: 0, slowBodies: 0, disconnects: 0 };
let stop = false;
/** Whether a flood is being held: descriptors are then sampled after it. */
let flooding = false;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function json(path: string, body?: unknown, method = body === undefined ? "GET" : "POST") {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const value = await res.json().catch(() => null);
  res.ok ? counts.ok++ : counts.refused++;
  return { status: res.status, value };
}

async function drain(res: Response, leaveAfterMs?: number): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const until = leaveAfterMs === undefined ? Infinity : Date.now() + leaveAfterMs;
  while (true) {
    if (Date.now() > until) {
      await reader.cancel();
      counts.disconnects++;
      return;
    }
    const { done } = await reader.read();
    if (done) return;
  }
}

/** A project's life: runs streamed, followed, abandoned; then the project is deleted. */
async function projectLife(worker: number): Promise<void> {
  while (!stop) {
    try {
      const { value: project } = await json("/api/projects", { name: `soak ${worker}` });
      const id = (project as { id: string }).id;
      for (let i = 0; i < 5 && !stop; i++) {
        const stream = await fetch(`${url}/api/projects/${id}/chat-stream`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            message: i % 2 ? "Remember that soak tests run long" : "What do you know?",
          }),
        });
        await drain(stream, i === 3 ? Math.random() * 300 : undefined);
        counts.ok++;
        const { value } = await json(`/api/projects/${id}/runs`, { message: "Summarize the project" });
        const events = (value as { eventsUrl: string }).eventsUrl;
        await Promise.all(Array.from({ length: 4 }, async (_, f) => {
          const res = await fetch(url + events);
          await drain(res, f === 0 ? Math.random() * 200 : undefined);
        }));
        // An abandoned long-poll.
        const poll = new AbortController();
        const waiting = fetch(`${url}${events.replace(/\/events$/, "")}?wait=30`, { signal: poll.signal })
          .then((r) => r.body?.cancel()).catch(() => {});
        await sleep(50);
        poll.abort();
        await waiting;
      }
      await json(`/api/projects/${id}`, undefined, "DELETE");
    } catch {
      counts.failed++;
      await sleep(200);
    }
  }
}

/** Every 15 s: 300 connections that send one byte, held for 2 s. */
async function floods(): Promise<void> {
  while (!stop) {
    await sleep(15_000);
    if (stop) return;
    flooding = true;
    const conns: Deno.Conn[] = [];
    await Promise.all(Array.from({ length: 300 }, async () => {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(conn);
        await conn.write(new Uint8Array([0x47]));
      } catch { /* refused: part of the flood */ }
    }));
    counts.floods++;
    await sleep(2_000);
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed by the server */ }
    }
    // How soon a normal client is answered once the flood stops (20 requests in a row).
    for (let i = 0; i < 20 && !stop; i++) {
      const start = performance.now();
      try {
        const res = await fetch(`${url}/api/projects`, { signal: AbortSignal.timeout(5_000) });
        await res.body?.cancel();
        if (res.ok) afterFlood.push(performance.now() - start);
        else counts.failed++;
      } catch {
        counts.failed++;
      }
    }
    flooding = false;
  }
}

/** Every second: a body that stalls after a few bytes (the server answers 408). */
async function slowBodies(): Promise<void> {
  while (!stop) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(
        `POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: 100\r\n\r\n{"name":`,
      ));
      const buffer = new Uint8Array(1024);
      const read = await Promise.race([conn.read(buffer), sleep(5_000).then(() => null)]);
      if (read && /^HTTP\/1\.1 408/.test(new TextDecoder().decode(buffer.subarray(0, read)))) {
        counts.slowBodies++;
      } else counts.failed++;
      conn.close();
    } catch {
      counts.failed++;
    }
    await sleep(1_000);
  }
}

const latencies: number[] = [];
const afterFlood: number[] = [];
async function probe(): Promise<void> {
  while (!stop) {
    const start = performance.now();
    try {
      const res = await fetch(`${url}/api/projects`);
      await res.body?.cancel();
      if (res.ok) latencies.push(performance.now() - start);
      else counts.failed++;
    } catch {
      counts.failed++;
    }
    await sleep(100);
  }
}

// Wait for the server.
for (const deadline = Date.now() + 20_000;;) {
  try {
    await (await fetch(`${url}/api/projects`)).body?.cancel();
    break;
  } catch {
    if (Date.now() > deadline) throw new Error(`The server did not start:\n${serverLog}`);
    await sleep(100);
  }
}

const tasks = [
  ...Array.from({ length: 4 }, (_, i) => projectLife(i)),
  floods(),
  slowBodies(),
  probe(),
];
const rows: { minute: number; rssMb: number; fds: number; p99: number; p50: number; probes: number }[] = [];
console.log(`Soak: ${minutes} min against ${url} (pid ${child.pid}).`);
console.log(
  "minute  rss_mb  fds  probe_p50_ms  probe_p99_ms  after_flood_p99_ms  probes  ok  refused  failed  floods  slow  left",
);
for (let minute = 1; minute <= minutes; minute++) {
  await sleep(60_000);
  // Sample between floods, so fds show what is left over, not the flood itself.
  for (const until = Date.now() + 5_000; flooding && Date.now() < until;) await sleep(50);
  const proc = readProc(child.pid, false);
  const fds = countFds(child.pid) ?? -1;
  const window = latencies.splice(0);
  const summary = summarize(window);
  const recovered = summarize(afterFlood.splice(0));
  const row = {
    minute,
    rssMb: proc.rssBytes / 2 ** 20,
    fds,
    p99: summary.p99,
    p50: summary.p50,
    probes: window.length,
  };
  rows.push(row);
  console.log(
    [
      String(minute).padStart(6),
      row.rssMb.toFixed(1).padStart(6),
      String(fds).padStart(4),
      row.p50.toFixed(1).padStart(12),
      row.p99.toFixed(1).padStart(12),
      (recovered.count ? recovered.p99.toFixed(1) : "-").padStart(18),
      String(row.probes).padStart(6),
      String(counts.ok).padStart(3),
      String(counts.refused).padStart(7),
      String(counts.failed).padStart(6),
      String(counts.floods).padStart(6),
      String(counts.slowBodies).padStart(4),
      String(counts.disconnects).padStart(4),
    ].join("  "),
  );
}
stop = true;

/** Least-squares slope of `ys` per step, as % of their mean. */
function slopePercent(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return my === 0 ? 0 : (num / den / my) * 100;
}
// The measure is the last 5 minutes of 10; a short run uses its second half (or all of 2-3 rows).
const tail = rows.length >= 10
  ? rows.slice(-5)
  : rows.length >= 4
  ? rows.slice(Math.floor(rows.length / 2))
  : rows;
const alive = await Promise.race([child.status.then(() => false), sleep(10).then(() => true)]);
console.log(
  `Last ${tail.length} min: RSS slope ${slopePercent(tail.map((r) => r.rssMb)).toFixed(2)} %/min, ` +
    `fds slope ${slopePercent(tail.map((r) => r.fds)).toFixed(2)} %/min; server alive: ${alive}; ` +
    `serve-loop restarts logged: ${(serverLog.match(/serving again/g) ?? []).length}` +
    (fdLimit === null ? "." : ` (ulimit -n ${fdLimit}).`),
);
await Promise.race([Promise.allSettled(tasks), sleep(35_000)]);
try {
  child.kill("SIGTERM");
} catch { /* gone */ }
await child.status;
await logPump.catch(() => {});
await Deno.remove(dir, { recursive: true }).catch(() => {});
Deno.exit(0);
