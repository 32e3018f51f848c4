/**
 * The live work stays in view: with 30 earlier exchanges, at 1280×800 and at
 * 360×740, the page is sampled every 50 ms while a run goes; the active step
 * and the end of the growing answer must be between the header and the
 * composer in every sample, the answer must never show raw Markdown, and
 * its final render must be the streamed one. Scrolling up stops the
 * following and offers "Jump to latest". Registered by ui_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { call, createProject, startServer } from "../helpers.ts";
import {
  browserTest,
  openProject,
  screenshot,
  sendMessage,
  waitForOutcome,
  waitForShown,
} from "./browser.ts";

/** One sample of what the window shows. */
interface Sample {
  t: number;
  stepInView: boolean | null;
  answerInView: boolean | null;
  text: string | null;
  html: string | null;
}

/** A project with `count` finished exchanges in a KV file; returns its id. */
async function seed(kvPath: string, count: number): Promise<string> {
  await using server = await startServer({ LANTERN_KV_PATH: kvPath });
  const project = await createProject(server.url, "Thirty exchanges");
  const asks = [
    "Remember that the launch is on May 3",
    "When is the launch?",
    "List memories",
    "Summarize the project",
  ];
  for (let i = 0; i < count; i++) {
    const { status } = await call(`${server.url}/api/projects/${project.id}/chat`, {
      body: { message: asks[i % asks.length] },
    });
    assert.equal(status, 200);
  }
  return project.id;
}

/** Starts sampling in the page every 50 ms; read the samples with `window.__samples`. */
function startSampling(): void {
  const samples: Sample[] = [];
  (globalThis as unknown as { __samples: Sample[] }).__samples = samples;
  const band = () => {
    const top = document.querySelector(".site-header")?.getBoundingClientRect().bottom ?? 0;
    const bottom = document.querySelector(".composer-box")?.getBoundingClientRect().top ?? innerHeight;
    return { top, bottom };
  };
  const inBand = (el: Element, { top, bottom }: { top: number; bottom: number }, edge: "whole" | "end") => {
    const r = el.getBoundingClientRect();
    if (r.height === 0) return false;
    return edge === "whole"
      ? r.top >= top - 1 && r.bottom <= bottom + 1
      : r.bottom > top && r.bottom <= bottom + 1;
  };
  // The streamed render as it last was, kept on every change (samples can
  // fall between the last token and the end).
  const store = globalThis as unknown as { __lastStreamed: string | null };
  store.__lastStreamed = null;
  new MutationObserver(() => {
    const answer = document.querySelector('[data-live="streaming"] [data-answer]');
    if (answer) store.__lastStreamed = answer.innerHTML;
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  const timer = setInterval(() => {
    const b = band();
    const step = document.querySelector('[data-step][data-status="active"]');
    const answer = document.querySelector('[data-live="streaming"] [data-answer]');
    const last = answer?.lastElementChild ?? answer;
    samples.push({
      t: performance.now(),
      stepInView: step ? inBand(step, b, "whole") : null,
      answerInView: last && answer?.textContent ? inBand(last, b, "end") : null,
      text: answer ? (answer as HTMLElement).innerText : null,
      html: answer ? answer.innerHTML : null,
    });
    if (document.querySelector('[data-outcome="succeeded"]') && samples.length > 2) clearInterval(timer);
  }, 50);
}

async function followsTheRun(browser: Browser, viewport: { width: number; height: number }, name: string) {
  const dir = await Deno.makeTempDir({ prefix: "lantern-live-view-" });
  try {
    const kvPath = `${dir}/lantern.kv`;
    const projectId = await seed(kvPath, 30);
    await using server = await startServer({
      LANTERN_KV_PATH: kvPath,
      LANTERN_LOCAL_PACE_MS: "150",
      LANTERN_LOCAL_TOKEN_MS: "60",
    });
    const page = await browser.newPage({ viewport });
    await openProject(page, server.url, projectId);
    assert.equal(await page.locator("[data-exchange]").count(), 30);
    // The conversation opens on its latest exchange.
    const atEnd = await page.evaluate(() =>
      scrollY + innerHeight >= document.documentElement.scrollHeight - 2
    );
    assert.ok(atEnd, "the page did not open on the latest exchange");
    await sendMessage(page, "Summarize the project");
    await page.evaluate(startSampling);
    await waitForOutcome(page, "succeeded");
    await page.waitForFunction(() => document.querySelectorAll('[data-role="assistant"]').length === 31);
    const samples = await page.evaluate(() => (globalThis as unknown as { __samples: Sample[] }).__samples);
    const withStep = samples.filter((s) => s.stepInView !== null);
    const withAnswer = samples.filter((s) => s.answerInView !== null);
    // (Samples space out when the machine is busy; a few suffice, each must hold.)
    assert.ok(withStep.length >= 3, `only ${withStep.length} samples saw an active step`);
    assert.ok(withAnswer.length >= 3, `only ${withAnswer.length} samples saw the answer stream`);
    const stepOut = withStep.filter((s) => !s.stepInView);
    assert.equal(
      stepOut.length,
      0,
      `the active step left the view in ${stepOut.length} of ${withStep.length} samples`,
    );
    const answerOut = withAnswer.filter((s) => !s.answerInView);
    assert.equal(
      answerOut.length,
      0,
      `the answer left the view in ${answerOut.length} of ${withAnswer.length} samples`,
    );
    for (const s of samples) {
      if (!s.text) continue;
      assert.ok(!s.text.includes("**"), `raw ** while streaming: ${JSON.stringify(s.text)}`);
      assert.ok(!/^\s*- /m.test(s.text), `a raw "- " while streaming: ${JSON.stringify(s.text)}`);
      assert.ok(!s.text.includes("```"), `a raw code fence while streaming: ${JSON.stringify(s.text)}`);
    }
    // The final render is the streamed one: nothing reflows at completion.
    const streamed = await page.evaluate(() =>
      (globalThis as unknown as { __lastStreamed: string | null }).__lastStreamed
    );
    assert.ok(streamed, "no streamed render was seen");
    const final = await page.locator("#latest [data-answer]").innerHTML();
    assert.equal(final, streamed, "the final answer is not the last streamed render");
    await screenshot(page, `12-finished-${name}`, { fullPage: false });
    // Once more, for a picture of a run going (a screenshot stalls the page,
    // so it is not taken while sampling).
    await sendMessage(page, "Summarize the project");
    await waitForShown(page, '[data-live="streaming"]');
    await screenshot(page, `11-running-${name}`, { fullPage: false });
    await waitForOutcome(page, "succeeded");
    await page.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

browserTest(
  "at 1280×800 the active step and the growing answer stay in view, after 30 exchanges",
  (browser) => followsTheRun(browser, { width: 1280, height: 800 }, "desktop"),
);

browserTest(
  "at 360×740 the active step and the growing answer stay in view, after 30 exchanges",
  (browser) => followsTheRun(browser, { width: 360, height: 740 }, "phone-360"),
);

browserTest("scrolling up stops the following; Jump to latest brings it back", async (browser) => {
  const dir = await Deno.makeTempDir({ prefix: "lantern-jump-" });
  try {
    const kvPath = `${dir}/lantern.kv`;
    const projectId = await seed(kvPath, 12);
    await using server = await startServer({
      LANTERN_KV_PATH: kvPath,
      LANTERN_LOCAL_PACE_MS: "300",
      LANTERN_LOCAL_TOKEN_MS: "40",
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await openProject(page, server.url, projectId);
    assert.equal(await page.locator("[data-jump]").count(), 0, "Jump to latest shows at the latest exchange");
    await sendMessage(page, "Summarize the project");
    await waitForShown(page, '[data-step="context"][data-status="active"]');
    await page.mouse.wheel(0, -1500);
    await page.locator("[data-jump]").waitFor();
    const before = await page.evaluate(() => scrollY);
    await waitForShown(page, '[data-live="streaming"]');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => scrollY), before, "the view moved after the person scrolled up");
    await screenshot(page, "13-jump-to-latest", { fullPage: false });
    await page.locator("[data-jump]").click();
    await page.locator("[data-jump]").waitFor({ state: "detached" });
    await waitForOutcome(page, "succeeded");
    assert.ok(
      await page.evaluate(() => scrollY + innerHeight >= document.documentElement.scrollHeight - 2),
      "after Jump to latest the view did not follow the run to its end",
    );
    await page.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
