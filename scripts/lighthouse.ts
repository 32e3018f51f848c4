/**
 * `deno task lighthouse`: Lighthouse 12.2.3 (run with Node, which it needs,
 * against Debian's Chromium) on the project list and on a project page with
 * 30 exchanges, served by a real Lantern on loopback. Prints each page's
 * scores and exits with 1 when accessibility, best practices or SEO is below
 * 100, or performance below 95.
 *
 * `LIGHTHOUSE_BIN` names a lighthouse binary already installed; otherwise
 * `npx -y lighthouse@12.2.3` fetches it. `LANTERN_CHROMIUM` names the
 * browser (default `/usr/bin/chromium`).
 *
 * @module
 */

import { createLantern } from "../lib/server.ts";
import { loadConfig } from "../lib/config.ts";

/** The lowest score each category may have. */
export const THRESHOLDS: Record<string, number> = {
  performance: 95,
  accessibility: 100,
  "best-practices": 100,
  seo: 100,
};

const CHROMIUM = Deno.env.get("LANTERN_CHROMIUM") || "/usr/bin/chromium";

async function json(url: string, body: unknown): Promise<Record<string, string>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return await res.json();
}

/** One run of Lighthouse on `url`. */
function runLighthouse(command: string[], url: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(command[0]!, {
    args: [
      ...command.slice(1),
      url,
      `--chrome-path=${CHROMIUM}`,
      "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
      "--only-categories=performance,accessibility,best-practices,seo",
      "--output=json",
      "--output-path=stdout",
      "--quiet",
    ],
    env: { CHROME_PATH: CHROMIUM },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Runs Lighthouse on `url` and returns its category scores (0–100). */
async function audit(url: string): Promise<Record<string, number>> {
  const bin = Deno.env.get("LIGHTHOUSE_BIN");
  const command = bin ? [bin] : ["npx", "-y", "lighthouse@12.2.3"];
  let out = await runLighthouse(command, url);
  // Lighthouse's own trace can fail ("Runtime error encountered … NO_NAVSTART. Please run Lighthouse
  // again."): that gives no scores at all, so it is run once more. Scores are never retried.
  if (!out.success && new TextDecoder().decode(out.stderr).includes("Runtime error encountered")) {
    console.log(`  Lighthouse could not record ${new URL(url).pathname}; running it once more.`);
    out = await runLighthouse(command, url);
  }
  if (!out.success) {
    throw new Error(`Lighthouse failed on ${url}:\n${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
  const report = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    categories: Record<string, { score: number | null }>;
    audits: Record<string, { score: number | null; title: string }>;
  };
  const scores: Record<string, number> = {};
  for (const [id, category] of Object.entries(report.categories)) {
    scores[id] = Math.round((category.score ?? 0) * 100);
  }
  const failing = Object.values(report.audits).filter((a) => a.score !== null && a.score < 0.9).map((a) =>
    a.title
  );
  if (failing.length) console.log(`  audits below 0.9 on ${new URL(url).pathname}: ${failing.join("; ")}`);
  return scores;
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "lantern-lighthouse-" });
  const lantern = await createLantern(
    loadConfig({
      LANTERN_KV_PATH: `${dir}/lantern.kv`,
      LANTERN_LOCAL_PACE_MS: "0",
      // The scores are what this prints; request lines would bury them.
      LANTERN_LOG: "off",
      LANTERN_LOCAL_TOKEN_MS: "0",
    }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, lantern.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  let failed = false;
  try {
    const project = await json(`${base}/api/projects`, { name: "Launch plan" });
    await json(`${base}/api/projects`, { name: "Garden" });
    const asks = [
      "Remember that the launch is on May 3",
      "When is the launch?",
      "List memories",
      "Summarize the project",
    ];
    for (let i = 0; i < 30; i++) {
      await json(`${base}/api/projects/${project.id}/chat`, { message: asks[i % asks.length] });
    }
    for (
      const [name, url] of [["/", `${base}/`], [
        "project page, 30 exchanges",
        `${base}/projects/${project.id}`,
      ]]
    ) {
      const scores = await audit(url!);
      const line = Object.entries(scores).map(([k, v]) => `${k} ${v}`).join(", ");
      console.log(`Lighthouse ${name}: ${line}`);
      for (const [category, min] of Object.entries(THRESHOLDS)) {
        if ((scores[category] ?? 0) < min) {
          console.log(`  ${category} is ${scores[category]}, below ${min}`);
          failed = true;
        }
      }
    }
  } catch (error) {
    console.error((error as Error).message);
    failed = true;
  } finally {
    await server.shutdown();
    await lantern.close(0);
    await Deno.remove(dir, { recursive: true });
  }
  Deno.exit(failed ? 1 : 0);
}
