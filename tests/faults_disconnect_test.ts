/**
 * 1,000 clients that go away at random moments: before their request is
 * read, while their run streams, or after. Afterwards nothing is left open
 * (streams, keep-alive timers, KV watches, followed remote runs, stream-cap
 * slots) and every run that started has its answer in its conversation.
 */

import assert from "node:assert/strict";
import type { Message, Project, RunRecord } from "../lib/protocol.ts";
import { call, createProject, eventually, startServer, withSeed } from "./helpers.ts";

const CLIENTS = 1_000;
const PROJECTS = 25;

type Outcome = "refused" | "before-response" | "mid-stream" | "complete";

Deno.test(`${CLIENTS} clients disconnecting at random moments leave nothing open and lose no answer`, async () => {
  await withSeed(async (seed, next) => {
    await using server = await startServer({
      LANTERN_LOCAL_PACE_MS: "2",
      LANTERN_LOCAL_TOKEN_MS: "1",
      LANTERN_HEARTBEAT_MS: "25",
      // The limits stay on (their bookkeeping is under test too), wide enough for this crowd.
      LANTERN_LIMITS: "on",
      LANTERN_RATE_RUNS_PER_MIN: "100000",
      LANTERN_MAX_RUNS_PER_PROJECT: "1000",
      LANTERN_MAX_STREAMS_PER_CLIENT: "5000",
    });
    const { url, lantern } = server;
    const projects: Project[] = [];
    for (let i = 0; i < PROJECTS; i++) projects.push(await createProject(url, `Crowd ${i}`));

    const client = async (i: number): Promise<Outcome> => {
      const project = projects[i % PROJECTS]!;
      const controller = new AbortController();
      // A random moment: right after sending (before or after the run starts),
      // after a random number of reads of the stream, or never (reads to the end).
      const roll = next();
      const leaveAfterReads = roll < 0.15 ? -1 : roll < 0.85 ? Math.floor(next() * 60) : Infinity;
      const timer = leaveAfterReads === -1
        ? setTimeout(() => controller.abort(), Math.floor(next() * 4))
        : undefined;
      let received = 0;
      try {
        const res = await fetch(`${url}/api/projects/${project.id}/chat-stream`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message: `Remember that client ${i} was here` }),
          signal: controller.signal,
        });
        if (res.status !== 200) {
          await res.body?.cancel();
          return "refused";
        }
        const reader = res.body!.getReader();
        try {
          while (true) {
            if (received >= leaveAfterReads) {
              controller.abort();
              return "mid-stream";
            }
            const { done } = await reader.read();
            if (done) return "complete";
            received++;
          }
        } finally {
          reader.releaseLock();
        }
      } catch {
        return received > 0 ? "mid-stream" : "before-response";
      } finally {
        clearTimeout(timer);
        if (!controller.signal.aborted) controller.abort();
      }
    };

    const clients: Promise<Outcome>[] = [];
    let inFlight = 0;
    for (let i = 0; i < CLIENTS; i++) {
      // Small pacing, and at most 100 clients at once, so the crowd stays a crowd and not a flood.
      while (inFlight >= 100) await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight++;
      clients.push(client(i).finally(() => inFlight--));
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const outcomes = await Promise.all(clients);
    const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
    const summary = `seed ${seed}: ${count("complete")} complete, ${count("mid-stream")} cut mid-stream, ` +
      `${count("before-response")} gone before an answer, ${count("refused")} refused`;
    assert.equal(count("refused"), 0, summary);
    assert.ok(count("mid-stream") > 0, `no client was cut mid-stream (${summary})`);

    // Every run finishes although its client left; then nothing stays open.
    await eventually("every run to finish", () => lantern.runs.stats().running === 0, 30_000);
    await eventually("every stream to close", () => {
      const stats = lantern.runs.stats();
      return stats.streams === 0 && stats.streamTimers === 0 && lantern.limits.streams!.open === 0;
    }, 30_000);
    const stats = lantern.runs.stats();
    assert.deepEqual(
      {
        streams: stats.streams,
        streamTimers: stats.streamTimers,
        watches: stats.watches,
        remote: stats.remoteRuns,
      },
      { streams: 0, streamTimers: 0, watches: 0, remote: 0 },
      summary,
    );
    assert.equal(lantern.limits.streams!.open, 0);
    assert.equal(lantern.limits.streams!.clients, 0);

    // Every run that started answered, and the answer is in its conversation.
    let runs = 0;
    for (const project of projects) {
      const records = (await call<RunRecord[]>(`${url}/api/projects/${project.id}/runs`)).body;
      const messages = (await call<Message[]>(`${url}/api/projects/${project.id}/messages`)).body;
      runs += records.length;
      for (const run of records) {
        assert.equal(run.status, "succeeded", `run ${run.id} is ${run.status} (${summary})`);
        const asked = messages.find((m) => m.id === run.messageId);
        assert.equal(asked?.role, "user");
        assert.equal(asked?.content, run.message);
        const answers = messages.filter((m) => m.role === "assistant" && m.runId === run.id);
        assert.equal(answers.length, 1, `run ${run.id} has ${answers.length} answers`);
        assert.equal(answers[0]!.content, run.result?.message);
      }
      // No message belongs to a run that does not exist.
      const ids = new Set(records.map((r) => r.id));
      for (const message of messages) {
        assert.ok(message.runId && ids.has(message.runId), `stray ${message.id}`);
      }
    }
    // A client gone before its request was read started no run; every other one did.
    assert.ok(runs >= CLIENTS - count("before-response") && runs <= CLIENTS, `${runs} runs (${summary})`);
  });
});
