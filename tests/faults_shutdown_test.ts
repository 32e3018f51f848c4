/**
 * Graceful shutdown on SIGTERM and SIGINT: followers get a final comment
 * telling them to reconnect, a request waiting for its answer gets it, runs
 * finish within LANTERN_SHUTDOWN_GRACE_MS or are marked interrupted, KV is
 * closed cleanly (a restart reads everything back), and the process exits 0.
 */

import assert from "node:assert/strict";
import type { Message, Project, RunRecord, RunStarted } from "../lib/protocol.ts";
import { call, type ChildServer, eventually, spawnServer } from "./helpers.ts";
import { FeedLog, feedScopes } from "../lib/feeds/feed_log.ts";

const GOODBYE = ": server shutting down; reconnect to continue";

/** Reads an event stream's text until `until` appears; returns the reader to go on with. */
async function readUntil(
  res: Response,
  until: RegExp,
): Promise<{ text: string; rest: () => Promise<string> }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!until.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The stream ended before ${until}:\n${text}`);
    text += value;
  }
  return {
    text,
    rest: async () => {
      let more = "";
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          more += value;
        }
      } catch (error) {
        more += `\n[cut: ${error}]`;
      }
      return more;
    },
  };
}

/** Starts a slow run, follows it until it is past its first step, and starts a /chat that waits. */
async function busy(child: ChildServer, project: Project) {
  const started = await call<RunStarted>(`${child.url}/api/projects/${project.id}/runs`, {
    body: { message: "Remember that shutdown is graceful" },
  });
  assert.equal(started.status, 202);
  const follower = await fetch(child.url + started.body.eventsUrl);
  assert.equal(follower.status, 200);
  const stream = await readUntil(follower, /"step":"context"/);
  const waiting = call<{ message?: string; error?: { code: string } }>(
    `${child.url}/api/projects/${project.id}/chat`,
    { body: { message: "Hello while stopping" } },
  );
  // Awaited by the caller; caught now, so that if the wait below fails, the
  // caller's finally (which kills the server and cuts this request) does not
  // turn its failure into an uncaught rejection that hides why the test failed.
  waiting.catch(() => {});
  // The /chat run has started once the project lists two runs.
  await eventually("the /chat run to start", async () => {
    const runs = await call<RunRecord[]>(`${child.url}/api/projects/${project.id}/runs`);
    return runs.body.length === 2;
  });
  return { runId: started.body.runId, stream, waiting };
}

async function withKv(run: (env: Record<string, string>) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await run({ LANTERN_KV_PATH: `${dir}/lantern.kv`, LANTERN_LEASE_MS: "500" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("on SIGTERM, runs finish within the grace period and followers are told to reconnect", async () => {
  await withKv(async (kv) => {
    const env = { ...kv, LANTERN_LOCAL_PACE_MS: "60", LANTERN_SHUTDOWN_GRACE_MS: "20000" };
    const child = await spawnServer(env);
    let project: Project;
    let runId: string;
    try {
      project = (await call<Project>(`${child.url}/api/projects`, { body: { name: "Stopping" } })).body;
      const work = await busy(child, project);
      runId = work.runId;
      const status = await child.kill("SIGTERM");
      assert.equal(status.code, 0, child.output());
      const rest = await work.stream.rest();
      assert.ok(rest.trimEnd().endsWith(GOODBYE), `the follower's stream ended with:\n${rest.slice(-300)}`);
      const waited = await work.waiting;
      assert.equal(waited.status, 200, "the waiting request got its answer");
      assert.ok(waited.body.message);
      assert.match(child.output(), /SIGTERM: shutting down \(runs get 20000 ms to finish\)/);
    } finally {
      await child.kill("SIGKILL");
    }
    // Every tab of the project heard both runs end: their run.ended went to KV before it closed.
    const store = await Deno.openKv(kv.LANTERN_KV_PATH);
    try {
      const changes = await new FeedLog(store).read(feedScopes.project(project.id), 0);
      assert.equal(changes.filter((c) => c.type === "run.ended").length, 2, JSON.stringify(changes));
    } finally {
      store.close();
    }

    const again = await spawnServer(env);
    try {
      const runs = (await call<RunRecord[]>(`${again.url}/api/projects/${project.id}/runs`)).body;
      assert.deepEqual(runs.map((r) => r.status), ["succeeded", "succeeded"]);
      const messages = (await call<Message[]>(`${again.url}/api/projects/${project.id}/messages`)).body;
      assert.equal(messages.filter((m) => m.role === "assistant").length, 2);
      const run = runs.find((r) => r.id === runId)!;
      // The follower reconnects elsewhere (here: the restarted server) and gets the rest from the log.
      const resumed = await fetch(`${again.url}/api/projects/${project.id}/runs/${runId}/events`, {
        headers: { "last-event-id": "1" },
      });
      const text = await resumed.text();
      assert.match(text, new RegExp(`^id: ${run.lastSeq}$`, "m"));
      assert.match(text, /"type":"result"/);
    } finally {
      await again.kill("SIGTERM");
    }
  });
});

Deno.test("on SIGINT with no grace, running runs are marked interrupted and say so", async () => {
  await withKv(async (kv) => {
    const env = { ...kv, LANTERN_LOCAL_PACE_MS: "200", LANTERN_SHUTDOWN_GRACE_MS: "0" };
    const child = await spawnServer(env);
    let project: Project;
    try {
      project = (await call<Project>(`${child.url}/api/projects`, { body: { name: "Cut short" } })).body;
      const work = await busy(child, project);
      const status = await child.kill("SIGINT");
      assert.equal(status.code, 0, child.output());
      const rest = await work.stream.rest();
      assert.ok(rest.trimEnd().endsWith(GOODBYE), `the follower's stream ended with:\n${rest.slice(-300)}`);
      const waited = await work.waiting;
      assert.equal(waited.status, 503, JSON.stringify(waited.body));
      assert.equal(waited.body.error?.code, "interrupted");
      assert.match(child.output(), /SIGINT: shutting down/);
    } finally {
      await child.kill("SIGKILL");
    }

    const again = await spawnServer(env);
    try {
      const runs = (await call<RunRecord[]>(`${again.url}/api/projects/${project.id}/runs`)).body;
      assert.deepEqual(runs.map((r) => r.status), ["interrupted", "interrupted"]);
      for (const run of runs) assert.equal(run.error?.code, "interrupted");
      const messages = (await call<Message[]>(`${again.url}/api/projects/${project.id}/messages`)).body;
      assert.deepEqual(messages.map((m) => [m.role, m.status]), [["user", "interrupted"], [
        "user",
        "interrupted",
      ]]);
    } finally {
      await again.kill("SIGTERM");
    }
  });
});
