/**
 * The conversation as exchanges, the folded rail's line, the rename of a
 * project (API and form), and a page rendered mid-run that shows where the
 * run really is.
 */

import assert from "node:assert/strict";
import { groupExchanges, summaryLine } from "../lib/exchanges.ts";
import type { Message, Project } from "../lib/protocol.ts";
import { STEPS } from "../lib/protocol.ts";
import { call, createProject, eventually, startServer } from "./helpers.ts";

const at = "2026-01-01T00:00:00.000Z";
const msg = (id: string, role: Message["role"], runId: string | null, content = id): Message => ({
  id,
  role,
  content,
  runId,
  createdAt: at,
});

Deno.test("messages group into exchanges by run, in the order of the users' messages", () => {
  const list = groupExchanges([
    msg("u1", "user", "r1"),
    msg("u2", "user", "r2"),
    msg("a2", "assistant", "r2"),
    msg("a1", "assistant", "r1"),
    msg("u3", "user", "r3"),
    msg("u0", "user", null),
    msg("a0", "assistant", null),
  ]);
  assert.deepEqual(
    list.map((x) => [x.key, x.user?.id ?? null, x.answer?.id ?? null]),
    [["r1", "u1", "a1"], ["r2", "u2", "a2"], ["r3", "u3", null], ["u0", "u0", "a0"]],
  );
  assert.deepEqual(groupExchanges([]), []);
});

Deno.test("a folded rail says how the run went, counting the steps from STEPS", () => {
  assert.equal(
    summaryLine({ status: "succeeded", durationMs: 1400, step: null }),
    `${STEPS.length} steps · 1.4 s`,
  );
  assert.equal(
    summaryLine({ status: "failed", durationMs: 20, step: "validation" }),
    "Failed at Validation · 20 ms",
  );
  assert.equal(summaryLine({ status: "interrupted", durationMs: null, step: null }), "Interrupted");
});

Deno.test("PATCH renames a project; bad names and unknown projects change nothing", async () => {
  await using server = await startServer();
  const project = await createProject(server.url, "Old");
  const url = `${server.url}/api/projects/${project.id}`;
  const renamed = await call<Project>(url, { method: "PATCH", body: { name: "  New name " } });
  assert.equal(renamed.status, 200);
  assert.deepEqual(renamed.body, { ...project, name: "New name" });
  assert.equal((await call<Project>(url)).body.name, "New name");
  const refusals: [unknown, number][] = [[{ name: "" }, 400], [{}, 400], [{ name: 5 }, 400], [
    { name: "x".repeat(201) },
    413,
  ]];
  for (const [body, status] of refusals) {
    const res = await call<{ error: { code: string } }>(url, { method: "PATCH", body });
    assert.equal(res.status, status, JSON.stringify(body));
  }
  assert.equal((await call<Project>(url)).body.name, "New name");
  const missing = await call<{ error: { code: string } }>(`${server.url}/api/projects/p_nope`, {
    method: "PATCH",
    body: { name: "A" },
  });
  assert.equal(missing.status, 404);
});

Deno.test("the list's forms rename and delete a project without JavaScript", async () => {
  await using server = await startServer();
  const project = await createProject(server.url, "Garden");
  const form = (path: string, body: string) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body,
      redirect: "manual",
    });
  const renamed = await form(`/projects/${project.id}/rename`, "name=Orchard");
  assert.equal(renamed.status, 303);
  assert.equal((await call<Project>(`${server.url}/api/projects/${project.id}`)).body.name, "Orchard");
  const home = await (await fetch(server.url)).text();
  assert.ok(home.includes("Orchard"));
  const deleted = await form(`/projects/${project.id}/delete`, "");
  assert.equal(deleted.status, 303);
  assert.equal((await call(`${server.url}/api/projects/${project.id}`)).status, 404);
});

Deno.test("the list finds projects by name with ?q=", async () => {
  await using server = await startServer();
  for (const name of ["Garden", "Launch", "Taxes", "Trip", "Book", "Move", "Wedding"]) {
    await createProject(server.url, name);
  }
  const html = await (await fetch(`${server.url}/?q=gar`)).text();
  assert.ok(html.includes('role="search"'), "no search box with seven projects");
  assert.equal([...html.matchAll(/data-project=/g)].length, 1);
  assert.ok(html.includes(">Garden<"));
});

Deno.test("a page rendered mid-run shows the steps the run has done, from its log", async () => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "250" });
  const project = await createProject(server.url, "Mid-run");
  const { body } = await call<{ runId: string }>(`${server.url}/api/projects/${project.id}/runs`, {
    body: { message: "Remember that the launch is on May 3" },
  });
  const runUrl = `${server.url}/api/projects/${project.id}/runs/${body.runId}`;
  await eventually(
    "the run to get past its third step",
    async () => (await call<{ lastSeq: number }>(runUrl)).body.lastSeq >= 6,
  );
  const html = await (await fetch(`${server.url}/projects/${project.id}`)).text();
  const statuses = [...html.matchAll(/data-step="(\w+)" data-status="(\w+)"/g)].map((m) => `${m[1]}:${m[2]}`);
  assert.equal(statuses.length, STEPS.length, html);
  assert.ok(statuses.includes("start:done"), `the first paint says: ${statuses.join(" ")}`);
  assert.ok(statuses.some((s) => s.endsWith(":active")), `no active step: ${statuses.join(" ")}`);
  assert.ok(html.includes('data-rail="live"'));
  await call(`${runUrl}/cancel`, { method: "POST" });
});
