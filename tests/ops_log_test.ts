/**
 * Structured logs: with `LANTERN_LOG=json` every stdout line is one JSON
 * object, with a line per request and per run transition carrying runId and
 * projectId, and never the message text or the token. `pretty` is short
 * key=value lines; `off` is silent.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/ops/log.ts";
import { collectRunEvents, spawnServer } from "./helpers.ts";
import { eventually } from "./runs_helpers.ts";

Deno.test("logs: LANTERN_LOG=json is one JSON object a line, per request and per run transition", async () => {
  const token = "log-test-token-0123456789";
  const child = await spawnServer({ LANTERN_LOG: "json", LANTERN_TOKEN: token });
  const auth = { authorization: `Bearer ${token}` };
  let lines: Record<string, unknown>[] = [];
  let runId = "";
  let projectId = "";
  const secret = "the harbour opens at dawn";
  try {
    const res = await fetch(`${child.url}/api/projects`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "Logs" }),
    });
    projectId = (await res.json()).id;
    const stream = await fetch(`${child.url}/api/projects/${projectId}/chat-stream`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ message: `Remember that ${secret}` }),
    });
    const events = await collectRunEvents(stream);
    await (await fetch(`${child.url}/healthz`)).body?.cancel();
    runId = events.at(-1)!.runId;
    lines = await eventually("the run's end in the log", () => {
      const parsed = child.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      return parsed.some((l) => l.msg === "run ended") ? parsed : undefined;
    });
  } finally {
    await child.kill();
  }
  const stdoutLines = child.output().split("\n").filter((l) => l.trim() !== "");
  for (const line of stdoutLines) {
    assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  }
  assert.ok(
    lines.some((l) => String(l.msg).startsWith("Listening on http://127.0.0.1:")),
    "start-up is JSON too",
  );
  const request = lines.find((l) =>
    l.msg === "request" && l.method === "POST" && l.runId === undefined &&
    l.path === `/api/projects/${projectId}/chat-stream`
  );
  assert.ok(request, "a line for the chat-stream request");
  assert.equal(request.status, 200);
  assert.equal(request.projectId, projectId);
  assert.equal(typeof request.durationMs, "number");
  assert.match(String(request.time), /^\d{4}-\d\d-\d\dT/);

  // Read after the process exited, so any line about /healthz would be in.
  assert.ok(!stdoutLines.some((l) => l.includes('"/healthz"')), "health checks that pass are not logged");
  assert.ok(stdoutLines.some((l) => l.includes('"msg":"shutting down"')), "the output was read to its end");

  const started = lines.find((l) => l.msg === "run started");
  assert.deepEqual([started?.runId, started?.projectId, started?.engine], [runId, projectId, "local"]);
  const ended = lines.find((l) => l.msg === "run ended");
  assert.deepEqual([ended?.runId, ended?.projectId, ended?.status], [runId, projectId, "succeeded"]);
  assert.equal(typeof ended?.durationMs, "number");

  const all = child.output();
  assert.ok(!all.includes(secret), "no message text");
  assert.ok(!all.includes(token), "no token");
  assert.ok(!all.includes("Remember that"), "no message text at all");
});

Deno.test("logs: pretty lines, off is silent, and a bad LANTERN_LOG is refused", () => {
  const lines: string[] = [];
  const pretty = createLogger("pretty", (line) => lines.push(line));
  pretty.info("run ended", { runId: "r1", status: "succeeded", note: "two words", skipped: undefined });
  pretty.warn("slow", { ms: 12 });
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} run ended runId=r1 status=succeeded note="two words"$/);
  assert.match(lines[1]!, /^\d\d:\d\d:\d\d\.\d{3} WARN slow ms=12$/);
  const off = createLogger("off", (line) => lines.push(line));
  off.error("nothing");
  assert.equal(lines.length, 2);
  assert.throws(
    () => loadConfig({ LANTERN_LOG: "loud" }),
    /LANTERN_LOG must be "json", "pretty" or "off", got "loud"/,
  );
  assert.equal(loadConfig({ LANTERN_LOG: "JSON" }).log, "json");
});
