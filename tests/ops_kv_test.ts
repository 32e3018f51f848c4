/**
 * `LANTERN_KV_PATH` as a KV Connect URL: Lantern opens it with
 * `DENO_KV_ACCESS_TOKEN` (no folder is made for it), and without the token
 * it refuses to start with a sentence that says what to set.
 */

import assert from "node:assert/strict";
import { whileLocked } from "../lib/store/kv.ts";
import { loadConfig } from "../lib/config.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs main.ts in an empty folder with `env`; returns its exit code, output and what the folder holds after. */
async function startIn(env: Record<string, string>) {
  const cwd = await Deno.makeTempDir({ prefix: "lantern-kv-url-" });
  try {
    const base: Record<string, string> = { NO_COLOR: "1", PORT: "0", LANTERN_LOG: "off" };
    for (const name of ["PATH", "HOME", "DENO_DIR"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) base[name] = value;
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-kv",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        MAIN,
      ],
      cwd,
      clearEnv: true,
      env: { ...base, ...env },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const out = await child.output();
    clearTimeout(killer);
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const left: string[] = [];
    for await (const entry of Deno.readDir(cwd)) left.push(entry.name);
    return { code: out.code, text, left };
  } finally {
    await Deno.remove(cwd, { recursive: true }).catch(() => {});
  }
}

Deno.test("kv url: without DENO_KV_ACCESS_TOKEN, Lantern does not start and says what to set", async () => {
  assert.throws(
    () => loadConfig({ LANTERN_KV_PATH: "https://kv.example.com/db" }),
    /LANTERN_KV_PATH "https:\/\/kv.example.com\/db" is a KV Connect URL.*set DENO_KV_ACCESS_TOKEN/,
  );
  assert.equal(
    loadConfig({ LANTERN_KV_PATH: "https://kv.example.com/db", DENO_KV_ACCESS_TOKEN: "t" }).kvPath,
    "https://kv.example.com/db",
  );
  assert.equal(loadConfig({ LANTERN_KV_PATH: "" }).kvPath, "", "empty still means Deploy's own KV");

  const { code, text, left } = await startIn({ LANTERN_KV_PATH: "https://kv.example.com/db" });
  assert.equal(code, 1);
  assert.match(text, /Lantern cannot start: .*set DENO_KV_ACCESS_TOKEN/);
  assert.deepEqual(left, [], "no folder was made");
});

Deno.test("kv url: Lantern speaks KV Connect to the URL with the token, and makes no folder for it", async () => {
  const seen: { method: string; path: string; auth: string | null }[] = [];
  // A stand-in for a KV Connect server that turns the token down: enough to see
  // that Lantern asked it (rather than treating the URL as a file path).
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    seen.push({
      method: req.method,
      path: new URL(req.url).pathname,
      auth: req.headers.get("authorization"),
    });
    return new Response("token rejected", { status: 401 });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/kv`;
    const { code, text, left } = await startIn({
      LANTERN_KV_PATH: url,
      DENO_KV_ACCESS_TOKEN: "test-token-1",
    });
    assert.equal(code, 1);
    assert.match(
      text,
      new RegExp(`Lantern cannot start: The KV Connect database at "${url}" could not be opened`),
    );
    assert.ok(!text.includes("test-token-1"), "the token is never printed");
    assert.deepEqual(seen[0], { method: "POST", path: "/kv", auth: "Bearer test-token-1" });
    assert.deepEqual(left, [], "no folder was made");
  } finally {
    await server.shutdown();
  }
});

Deno.test("start-up work on a locked KV file is retried; other errors and a lock that lasts are thrown", async () => {
  let tries = 0;
  // The isolates of `deno serve --parallel` migrate one fresh file at once; SQLite says "locked" at once.
  const migrated = await whileLocked(() =>
    ++tries < 4 ? Promise.reject(new TypeError("database is locked")) : Promise.resolve("migrated")
  );
  assert.equal(migrated, "migrated");
  assert.equal(tries, 4);

  let other = 0;
  await assert.rejects(
    whileLocked(() => {
      other++;
      return Promise.reject(new Error("Value too large"));
    }),
    /Value too large/,
  );
  assert.equal(other, 1, "another error is not retried");

  await assert.rejects(
    whileLocked(() => Promise.reject(new TypeError("database is locked")), 50),
    /database is locked/,
    "a lock that outlasts the time given is thrown",
  );
});
