/**
 * Smoke-tests a built release folder: copies it to an empty temp folder,
 * starts `deno run -A --unstable-kv lantern.js` there (KV in that folder,
 * default settings otherwise), and checks health, a chat-stream run with all
 * eight steps, the project page and every asset it links to.
 *
 * `deno run -A scripts/dist_smoke.ts dist` (CI runs this after
 * `deno task dist`); `tests/ops_dist_test.ts` calls {@linkcode smokeTest}.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import { join } from "node:path";
import { STEPS } from "../lib/protocol.ts";

/** What the smoke test saw. */
export interface SmokeReport {
  /** The folder the release ran from (removed afterwards). */
  ranFrom: string;
  steps: string[];
  answer: string;
  assets: string[];
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile) await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

async function waitForListen(child: Deno.ChildProcess, output: { text: string }): Promise<string> {
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The release exited before it listened:\n${output.text}`);
      output.text += decoder.decode(value, { stream: true });
      const match = /Listening on (http:\/\/[^\s"]+?)\/?[\s"]/.exec(output.text);
      if (match?.[1]) {
        // Keep draining stdout so the child never blocks on a full pipe.
        (async () => {
          for (;;) {
            const next = await reader.read().catch(() => ({ done: true, value: undefined }));
            if (next.done) return;
            output.text += decoder.decode(next.value, { stream: true });
          }
        })();
        return match[1];
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Copies `distDir` to an empty temp folder and exercises it there. Throws an
 * Error saying what went wrong.
 *
 * @example
 * ```ts ignore
 * import { smokeTest } from "./dist_smoke.ts";
 * console.log((await smokeTest("dist")).steps.length); // 8
 * ```
 */
export async function smokeTest(distDir: string): Promise<SmokeReport> {
  const home = await Deno.makeTempDir({ prefix: "lantern-dist-smoke-" });
  await copyDir(distDir, join(home, "release"));
  const env: Record<string, string> = { PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", "release/lantern.js"],
    cwd: home,
    clearEnv: true,
    env: { ...env, LANTERN_LOCAL_PACE_MS: "0", LANTERN_LOCAL_TOKEN_MS: "0", LANTERN_LOG: "off" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errors = child.stderr.pipeThrough(new TextDecoderStream());
  const output = { text: "" };
  const stderrDone = (async () => {
    for await (const chunk of errors) output.text += chunk;
  })();
  try {
    const base = await waitForListen(child, output);
    const health = await fetch(`${base}/healthz`);
    check(health.status === 200, `/healthz answered ${health.status}.`);
    await health.body?.cancel();

    const created = await fetch(`${base}/api/projects`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Smoke" }),
    });
    check(created.status === 201, `Creating a project answered ${created.status}.`);
    const project = await created.json() as { id: string };

    const stream = await fetch(`${base}/api/projects/${project.id}/chat-stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Remember that the smoke test passed" }),
    });
    check(stream.status === 200 && stream.body, `chat-stream answered ${stream.status}.`);
    const steps: string[] = [];
    let answer = "";
    const events = stream.body.pipeThrough(new TextDecoderStream()).pipeThrough(
      new EventSourceParserStream(),
    );
    for await (const message of events) {
      const event = JSON.parse(message.data);
      if (event.type === "progress" && event.progress.phase === "end") steps.push(event.progress.step);
      if (event.type === "error") throw new Error(`The run failed: ${message.data}`);
      if (event.type === "result") answer = event.result.message;
    }
    check(
      steps.join() === STEPS.join(),
      `The run's steps were "${steps.join()}", expected "${STEPS.join()}".`,
    );
    check(answer.includes("smoke test passed"), `The answer was "${answer}".`);

    const page = await fetch(`${base}/projects/${project.id}`);
    const html = await page.text();
    check(page.status === 200, `The project page answered ${page.status}.`);
    check(html.includes("Smoke"), "The project page does not show the project's name.");
    const assets = [...new Set([...html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map((m) => m[1]!))];
    check(assets.some((a) => a.endsWith(".js")), "The page links no script.");
    check(assets.some((a) => a.endsWith(".css")), "The page links no stylesheet.");
    for (const asset of assets) {
      const res = await fetch(`${base}${asset}`);
      const body = await res.arrayBuffer();
      check(res.status === 200 && body.byteLength > 0, `${asset} answered ${res.status}.`);
    }
    // Static imports of the island bundle (code-split chunks, beside it) must load too.
    for (const script of assets.filter((a) => a.endsWith(".js"))) {
      const folder = script.slice(0, script.lastIndexOf("/") + 1);
      const code = await (await fetch(`${base}${script}`)).text();
      for (const chunk of code.matchAll(/from\s*"\.\/([^"]+\.js)"/g)) {
        const res = await fetch(`${base}${folder}${chunk[1]}`);
        await res.body?.cancel();
        check(res.status === 200, `${folder}${chunk[1]} answered ${res.status}.`);
        assets.push(`${folder}${chunk[1]}`);
      }
    }
    return { ranFrom: home, steps, answer, assets };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nThe release printed:\n${output.text}`);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await stderrDone.catch(() => {});
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? "dist";
  try {
    const report = await smokeTest(dir);
    console.log(
      `dist smoke test: ok (8 steps, ${report.assets.length} assets, ran from an empty folder)`,
    );
  } catch (error) {
    console.error(`dist smoke test: FAILED\n${(error as Error).message}`);
    Deno.exit(1);
  }
}
