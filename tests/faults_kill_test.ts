/**
 * The process killed (SIGKILL) at random points while runs stream, then
 * restarted on the same KV file, several times over: no record is corrupt,
 * no run stays `running` after the sweep, every log is whole and ends in its
 * terminal event, and every conversation agrees with its runs.
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { type Message, type Project, type RunRecord, type RunStarted, STEPS } from "../lib/protocol.ts";
import { call, chatStream, eventually, spawnServer, withSeed } from "./helpers.ts";

const ROUNDS = 4;

const Step = z.enum(STEPS);
const Usage = z.object({ model: z.string(), inputTokens: z.number(), outputTokens: z.number() }).strict();
const RunErrorShape = z.object({ code: z.string().min(1), message: z.string().min(1), step: Step.nullable() })
  .strict();
const Result = z.object({
  runId: z.string(),
  message: z.string(),
  plan: z.array(z.unknown()),
  actions: z.array(z.unknown()),
  memories: z.object({ added: z.array(z.unknown()), removed: z.array(z.unknown()) }),
  steps: z.array(z.object({ step: Step, durationMs: z.number() })),
  engine: z.string(),
  usage: Usage.optional(),
});
const Id = z.string().regex(/^[0-9a-z]{37}$/);
const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO time");
/** Every field of a RunRecord, in a terminal state. */
const TerminalRecord = z.object({
  id: Id,
  projectId: Id,
  message: z.string().min(1),
  status: z.enum(["succeeded", "failed", "cancelled", "interrupted"]),
  createdAt: Iso,
  endedAt: Iso,
  durationMs: z.number().nonnegative(),
  lastSeq: z.number().int().positive(),
  owner: Id,
  messageId: Id,
  engine: z.string().min(1),
  result: Result.nullable(),
  error: RunErrorShape.nullable(),
  usage: Usage.nullable(),
}).strict();

Deno.test("killed at random points and restarted, Lantern keeps every record whole and every run ends", async () => {
  await withSeed(async (seed, next) => {
    const dir = await Deno.makeTempDir();
    const env = {
      LANTERN_KV_PATH: `${dir}/lantern.kv`,
      LANTERN_LEASE_MS: "300",
      LANTERN_LOCAL_PACE_MS: "15",
      LANTERN_LOCAL_TOKEN_MS: "3",
      LANTERN_LIMITS: "off",
    };
    try {
      let projects: Project[] = [];
      const started = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const child = await spawnServer(env);
        try {
          if (round === 0) {
            for (const name of ["One", "Two", "Three"]) {
              projects.push((await call<Project>(`${child.url}/api/projects`, { body: { name } })).body);
            }
          } else {
            projects = (await call<Project[]>(`${child.url}/api/projects`)).body;
          }
          // Runs in the background, some followed on a stream, then a kill at a random moment.
          const streams: Promise<unknown>[] = [];
          for (let i = 0; i < 6; i++) {
            const project = projects[i % projects.length]!;
            const message = `Remember that round ${round} run ${i} happened`;
            if (i % 2 === 0) {
              const res = await call<RunStarted>(`${child.url}/api/projects/${project.id}/runs`, {
                body: { message },
              });
              assert.equal(res.status, 202, `round ${round}: ${JSON.stringify(res.body)}`);
              started.add(res.body.runId);
            } else {
              const res = await chatStream(child.url, project.id, message);
              assert.equal(res.status, 200);
              started.add(res.headers.get("x-run-id")!);
              streams.push(res.text().catch(() => "cut"));
            }
          }
          await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 400)));
          const status = await child.kill("SIGKILL");
          assert.equal(status.signal, "SIGKILL");
          await Promise.all(streams);
        } finally {
          await child.kill("SIGKILL");
        }
      }

      // The last restart sweeps what the killed instances left running.
      const last = await spawnServer(env);
      let records: RunRecord[] = [];
      try {
        await eventually("every run to be terminal after the sweep", async () => {
          records = [];
          for (const project of projects) {
            records.push(...(await call<RunRecord[]>(`${last.url}/api/projects/${project.id}/runs`)).body);
          }
          return records.every((r) => r.status !== "running");
        }, 20_000);
        assert.deepEqual(
          new Set(records.map((r) => r.id)),
          started,
          `seed ${seed}: the runs are the runs started`,
        );
        // The events of every run replay whole, ending with its terminal event.
        for (const record of records) {
          const res = await fetch(`${last.url}/api/projects/${record.projectId}/runs/${record.id}/events`);
          if (res.status === 204) continue;
          assert.equal(res.status, 200);
          const text = await res.text();
          const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
          assert.deepEqual(
            seqs,
            seqs.map((_, i) => i + 1),
            `seed ${seed}: run ${record.id} replays with gaps`,
          );
          assert.equal(seqs.at(-1), record.lastSeq);
        }
        const exit = await last.kill("SIGTERM");
        assert.equal(exit.code, 0);
      } finally {
        await last.kill("SIGKILL");
      }

      // Read KV directly: every record parses and has the RunRecord shape.
      const kv = await Deno.openKv(env.LANTERN_KV_PATH);
      try {
        const runs: RunRecord[] = [];
        for await (const entry of kv.list<unknown>({ prefix: ["runs"] })) {
          const parsed = TerminalRecord.safeParse(entry.value);
          assert.ok(
            parsed.success,
            `seed ${seed}: ${JSON.stringify(entry.key)} is corrupt: ${parsed.error?.message}`,
          );
          const record = parsed.data as RunRecord;
          assert.deepEqual(entry.key, ["runs", record.projectId, record.id]);
          if (record.status === "succeeded") assert.ok(record.result && !record.error);
          else {assert.ok(
              !record.result && record.error,
              `run ${record.id} is ${record.status} without its error`,
            );}
          runs.push(record);
        }
        assert.equal(runs.length, started.size);
        const running = [];
        for await (const entry of kv.list({ prefix: ["running"] })) running.push(entry.key);
        assert.deepEqual(running, [], "no run is left in the running index");

        for (const project of projects) {
          const messages: Message[] = [];
          for await (const entry of kv.list<Message>({ prefix: ["messages", project.id] })) {
            messages.push(entry.value);
          }
          for (const run of runs.filter((r) => r.projectId === project.id)) {
            const asked = messages.find((m) => m.id === run.messageId);
            assert.equal(asked?.content, run.message, `run ${run.id} lost its user message`);
            const answers = messages.filter((m) => m.role === "assistant" && m.runId === run.id);
            if (run.status === "succeeded") {
              assert.equal(asked?.status, undefined);
              assert.deepEqual(answers.map((m) => m.content), [run.result!.message]);
            } else {
              assert.equal(asked?.status, run.status, `run ${run.id}`);
              assert.deepEqual(answers, [], `run ${run.id} is ${run.status} but has an answer`);
            }
          }
        }
      } finally {
        kv.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
