/**
 * Issue 13's crash: with a low open-file limit, a flood of connections that
 * each send one byte made Deno's serve loop fail with "Too many open files"
 * and the process exit. Lantern (main.ts) now serves again; this floods a
 * child process whose limit is 256 (hard and soft) with 512 connections.
 */

import assert from "node:assert/strict";
import { freePort, TEST_ENV } from "./helpers.ts";

const LIMIT = 256;

function spawnLimited(port: number) {
  const child = new Deno.Command("sh", {
    args: ["-c", `ulimit -n ${LIMIT}; exec "${Deno.execPath()}" run -A main.ts`],
    env: { ...TEST_ENV, PORT: String(port), HOST: "127.0.0.1" },
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pumps = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  }));
  let exited: Deno.CommandStatus | null = null;
  child.status.then((status) => exited = status);
  return { child, pumps, output: () => output, exited: () => exited };
}

async function get(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.body?.cancel();
  return res.status;
}

async function answered(url: string, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    try {
      if (await get(url) === 200) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Gave up waiting: ${what} (last error: ${last}).`);
}

Deno.test(`a flood of ${2 * LIMIT} connections at ulimit -n ${LIMIT} leaves the server alive and serving`, async () => {
  const port = freePort();
  const server = await spawnLimited(port);
  const url = `http://127.0.0.1:${port}/api/projects`;
  try {
    await answered(url, "the server to start", 20_000);
    const limits = await new Deno.Command("sh", { args: ["-c", `ulimit -n ${LIMIT}; ulimit -Hn`] }).output();
    assert.equal(new TextDecoder().decode(limits.stdout).trim(), String(LIMIT), "the limit is hard too");

    const conns: Deno.Conn[] = [];
    await Promise.all(Array.from({ length: 2 * LIMIT }, async () => {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(conn);
        await conn.write(new Uint8Array([0x47]));
      } catch { /* refused or reset: the flood goes on */ }
    }));
    // Hold the flood until the server has run out at least once.
    const deadline = Date.now() + 10_000;
    while (!/serving again \(restart \d+\)/.test(server.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(server.output(), /serving again \(restart \d+\)/, `no restart logged:\n${server.output()}`);
    assert.equal(server.exited(), null, `the server exited:\n${server.output()}`);
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed by the server */ }
    }

    await answered(url, "a normal request after the flood", 10_000);
    for (let i = 0; i < 20; i++) assert.equal(await get(url), 200);
    assert.equal(server.exited(), null, `the server exited:\n${server.output()}`);
    assert.doesNotMatch(server.output(), /Uncaught/);
  } finally {
    try {
      server.child.kill("SIGTERM");
    } catch { /* gone */ }
    await server.child.status;
    await server.pumps;
  }
});
