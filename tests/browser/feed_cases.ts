/**
 * Live everywhere: two browser contexts (two people, or two devices) on one
 * project. What one sends plays live in the other, step by step and token by
 * token; runs that overlap keep their own exchange in both; a rename and a
 * delete reach the other at once; the project list follows too. Registered
 * by ui_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { STEPS } from "../../lib/protocol.ts";
import { call, createProject, startServer } from "../helpers.ts";
import {
  browserTest,
  changes,
  installRecorder,
  openProject,
  screenshot,
  sendMessage,
  waitForOutcome,
} from "./browser.ts";

/** Each exchange as a line: the user's message and the answer shown under it. */
function exchanges(page: Page): Promise<string[]> {
  return page.locator("[data-exchange]").evaluateAll((list) =>
    list.map((x) => {
      const user = x.querySelector('[data-role="user"] .bubble')?.textContent ?? "";
      const answer = x.querySelector("[data-answer]")?.textContent ?? "";
      return `${user} → ${answer}`;
    })
  );
}

browserTest(
  "two tabs: a run sent in one plays live in the other, step by step, with its answer and memory",
  async (browser) => {
    await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "80", LANTERN_LOCAL_TOKEN_MS: "15" });
    const project = await createProject(server.url, "Two tabs");
    const a = await (await browser.newContext()).newPage();
    const b = await (await browser.newContext()).newPage();
    await installRecorder(b);
    await openProject(a, server.url, project.id);
    await openProject(b, server.url, project.id);

    await sendMessage(a, "Remember that the launch is on May 3");
    // B shows the message and the steps as they go, not all at once at the end.
    await b.waitForSelector('[data-role="user"] >> text=Remember that the launch is on May 3', {
      timeout: 10_000,
    });
    await waitForOutcome(b, "succeeded");
    await waitForOutcome(a, "succeeded");
    const log = await changes(b);
    const seen = (status: string) => {
      const times = new Map<string, number>();
      for (const c of log) {
        if (c.kind === "step" && c.value === status && !times.has(c.key)) {
          times.set(c.key, c.t);
        }
      }
      return times;
    };
    const activeAt = seen("active");
    const doneAt = seen("done");
    for (const step of STEPS) {
      assert.ok(activeAt.has(step), `tab B never showed "${step}" active`);
      assert.ok(activeAt.get(step)! < doneAt.get(step)!, `tab B showed "${step}" done before active`);
    }
    const spread = activeAt.get("completion")! - activeAt.get("start")!;
    assert.ok(spread > 8 * 40, `tab B showed the steps turn active within ${spread.toFixed(0)} ms`);
    // The answer grew token by token in B too.
    const lengths = new Set(log.filter((c) => c.kind === "live").map((c) => c.value.length));
    assert.ok(lengths.size >= 5, `tab B showed the answer at only ${lengths.size} lengths`);
    // Same conversation, same answer, same memory in both.
    assert.deepEqual(await exchanges(b), await exchanges(a));
    await b.waitForSelector(".memory-panel >> text=the launch is on May 3", { state: "attached" });
    await screenshot(b, "20-second-tab-after-run");
  },
);

browserTest(
  "two tabs: runs that overlap keep their own exchange, in order, in both tabs",
  async (browser) => {
    await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "120", LANTERN_LOCAL_TOKEN_MS: "10" });
    const project = await createProject(server.url, "Overlap");
    const a = await (await browser.newContext()).newPage();
    const b = await (await browser.newContext()).newPage();
    await openProject(a, server.url, project.id);
    await openProject(b, server.url, project.id);
    await sendMessage(a, "Remember that the beta is in June");
    // While A's run goes, B sends its own.
    await b.waitForSelector('[data-outcome="running"]', { timeout: 10_000 });
    await sendMessage(b, "hi");
    for (const page of [a, b]) {
      await page.waitForFunction(
        () => document.querySelectorAll('[data-outcome="succeeded"]').length >= 1,
        null,
        {
          timeout: 20_000,
        },
      );
    }
    await a.waitForFunction(() => !document.querySelector('[data-outcome="running"]'), null, {
      timeout: 20_000,
    });
    await b.waitForFunction(() => !document.querySelector('[data-outcome="running"]'), null, {
      timeout: 20_000,
    });
    // Both answers are saved; each tab shows each under its own message.
    await b.waitForFunction(
      () => document.querySelectorAll('[data-role="assistant"] [data-answer]').length === 2,
      null,
      {
        timeout: 10_000,
      },
    );
    await a.waitForFunction(
      () => document.querySelectorAll('[data-role="assistant"] [data-answer]').length === 2,
      null,
      {
        timeout: 10_000,
      },
    );
    const inA = await exchanges(a);
    const inB = await exchanges(b);
    assert.equal(inA.length, 2);
    assert.match(inA[0]!, /^Remember that the beta is in June → .*beta is in June/);
    assert.match(inA[1]!, /^hi → /);
    assert.doesNotMatch(inA[1]!, /beta/);
    assert.deepEqual(inB, inA);
    // The API gives the same order.
    const api = await call<{ role: string; content: string }[]>(
      `${server.url}/api/projects/${project.id}/messages`,
    );
    assert.deepEqual(api.body.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
    assert.equal(api.body[2]!.content, "hi");
    await screenshot(a, "21-overlapping-runs");
  },
);

browserTest("two tabs: a rename and a delete in one show in the other; the list follows", async (browser) => {
  await using server = await startServer();
  const project = await createProject(server.url, "Before");
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  const list = await (await browser.newContext()).newPage();
  await openProject(a, server.url, project.id);
  await openProject(b, server.url, project.id);
  await list.goto(server.url);
  await list.waitForSelector("[data-projects-live]");
  await call(`${server.url}/api/projects/${project.id}`, { method: "PATCH", body: { name: "After" } });
  await b.waitForFunction(() => document.querySelector(".project-title")?.textContent === "After");
  assert.equal(await b.title(), "After · Lantern");
  await list.waitForSelector(".project-row >> text=After");
  const other = await createProject(server.url, "Newcomer");
  await list.waitForSelector(".project-row >> text=Newcomer");
  await call(`${server.url}/api/projects/${project.id}`, { method: "DELETE" });
  await b.waitForSelector("[data-deleted]");
  // The page says so in place of the project: no memory, no conversation, no composer; a way back.
  assert.match((await b.locator("[data-deleted] h2").textContent()) ?? "", /^This project was deleted\.$/);
  for (const gone of ["form[data-composer]", ".memory-panel", "[data-memories]", ".thread"]) {
    assert.equal(await b.locator(gone).count(), 0, `the deleted project's page still shows ${gone}`);
  }
  assert.equal(await b.locator("[data-announcer]").textContent(), "This project was deleted.");
  await a.waitForSelector("[data-deleted]");
  await list.waitForFunction(() => !document.body.textContent?.includes("After"));
  await screenshot(b, "22-deleted-in-another-tab");
  await b.locator("[data-deleted]").getByRole("link", { name: "See all projects" }).click();
  await b.waitForURL(`${server.url}/`);
  await b.waitForSelector(".project-row >> text=Newcomer");
  await call(`${server.url}/api/projects/${other.id}`, { method: "DELETE" });
});
