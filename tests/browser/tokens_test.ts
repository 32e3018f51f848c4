/**
 * Tokens in the browser: the page shows the answer growing while the engine
 * is still producing it. The engine sends each next token only once the page
 * shows the previous one, so a server (or page) that held tokens back until
 * the run ended would never get past the first, and the test fails at its
 * deadline. The recorder then shows when each length of the answer first
 * appeared: one after another, all before the run's result.
 */

import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { createProject } from "../helpers.ts";
import { gatedTokens, startCustomServer } from "../runs_helpers.ts";
import {
  browserTest,
  changes,
  installRecorder,
  openProject,
  sendMessage,
  waitForOutcome,
} from "./browser.ts";

const NAME = "the answer grows token by token in the page while the engine is still writing it";

browserTest(NAME, async (browser: Browser) => {
  const gates = gatedTokens(["The ", "answer ", "grows ", "word ", "by ", "word."]);
  await using server = await startCustomServer({}, { engine: gates.engine });
  const project = await createProject(server.url, "Tokens");
  const page = await browser.newPage();
  await installRecorder(page);
  await openProject(page, server.url, project.id);
  await sendMessage(page, "hi");

  let expected = "";
  // The last token needs no release: after it the run ends at once.
  for (const token of gates.tokens.slice(0, -1)) {
    expected += token;
    // A deadline, not a speed claim: the engine holds every next token until the page shows this one.
    await page.waitForFunction(
      (text) => document.querySelector('[data-live="streaming"] [data-answer]')?.textContent?.trim() === text,
      expected.trim(),
      { polling: 10, timeout: 10_000 },
    ).catch(() => {
      throw new Error(`The page never showed "${expected}" while the engine waited for the page.`);
    });
    assert.equal(
      await page.locator("[data-outcome=succeeded]").count(),
      0,
      "the run finished before its last token",
    );
    gates.release();
  }
  await waitForOutcome(page, "succeeded");
  const answer = page.locator('[data-role="assistant"] [data-answer]').last();
  assert.equal((await answer.textContent())?.trim(), gates.tokens.join(""));

  // When each length of the answer first appeared: in order, one at a time, all before the result.
  const log = await changes(page);
  const result = log.find((c) => c.kind === "outcome" && c.value === "succeeded");
  assert.ok(result, "the outcome never showed");
  const firstSeen = new Map<number, number>();
  for (const c of log) {
    if (c.kind !== "live" || c.value === "" || c.value === "Working on it") continue;
    const length = c.value.trim().length;
    if (!firstSeen.has(length)) firstSeen.set(length, c.t);
  }
  const partials = gates.tokens.slice(0, -1).map((_, i) =>
    gates.tokens.slice(0, i + 1).join("").trim().length
  );
  const times = partials.map((length) => {
    const t = firstSeen.get(length);
    assert.ok(t !== undefined, `the answer never showed ${length} characters: ${[...firstSeen.keys()]}`);
    return t;
  });
  for (let i = 1; i < times.length; i++) {
    assert.ok(
      times[i]! > times[i - 1]!,
      `token ${i + 1} showed no later than token ${i}: ${times.join(", ")}`,
    );
  }
  assert.ok(
    times.at(-1)! < result.t,
    `a partial answer showed at ${times.at(-1)}, the result at ${result.t}`,
  );
});
