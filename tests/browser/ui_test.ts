/**
 * The page in a real Chromium: create a project, watch a run step by step,
 * the streamed answer and the saved memory, reload mid-run, Stop, no
 * JavaScript, keyboard only, and clean screenshots in both themes and at
 * phone width. The server restart and crash cases live in restart_cases.ts.
 */

import assert from "node:assert/strict";
import { type StepName, STEPS } from "../../lib/protocol.ts";
import { STEP_LABELS } from "../../lib/timeline_words.ts";
import { BUDGET_BYTES, pageScripts } from "../../scripts/size.ts";
import { call, createProject, startServer } from "../helpers.ts";
import {
  browserTest,
  type Change,
  changes,
  installRecorder,
  openProject,
  screenshot,
  sendMessage,
  submitForm,
  waitForOutcome,
  waitForShown,
} from "./browser.ts";
import "./live_view_cases.ts";
import "./restart_cases.ts";
import "./feed_cases.ts";

/** The first time each step showed `status`, in page time. */
function firstTimes(log: Change[], status: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const c of log) {
    if (c.kind === "step" && c.value === status && !times.has(c.key)) times.set(c.key, c.t);
  }
  return times;
}

function outcomeAt(log: Change[], outcome: string): number {
  const change = log.find((c) => c.kind === "outcome" && c.value === outcome);
  assert.ok(change, `the outcome "${outcome}" never showed`);
  return change.t;
}

browserTest("the home page creates, lists, renames and deletes projects", async (browser) => {
  await using server = await startServer();
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByLabel("New project").fill("Launch plan");
  await submitForm(page, page.getByRole("button", { name: "Create" }));
  assert.match(page.url(), /\/projects\/[^/]+$/);
  await page.waitForSelector(".chat[data-hydrated]");
  assert.equal(await page.locator("h1").textContent(), "Launch plan");
  assert.equal(await page.title(), "Launch plan · Lantern");
  // The header leads back to the list.
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Projects" }).click();
  await page.waitForURL(`${server.url}/`);
  const row = page.locator(".project-row", { hasText: "Launch plan" });
  assert.equal(await row.locator("[data-project]").locator(".project-name").textContent(), "Launch plan");
  assert.equal(await row.locator(".project-line").textContent(), "No messages yet");
  assert.equal(await row.locator("time").textContent(), "Just now");
  await screenshot(page, "01-projects");
  // Rename, then delete, from the row's menu.
  await row.getByLabel("Rename or delete Launch plan").click();
  await row.getByRole("textbox", { name: "Name" }).fill("Beta launch");
  await submitForm(page, row.getByRole("button", { name: "Rename" }));
  const renamed = page.locator(".project-row", { hasText: "Beta launch" });
  assert.equal(await renamed.count(), 1);
  await renamed.getByLabel("Rename or delete Beta launch").click();
  await submitForm(page, renamed.locator("[data-delete]"));
  assert.equal(await page.locator(".project-row").count(), 0);
  assert.equal(await page.locator(".empty").textContent(), "No projects yet. Create one to start.");
});

browserTest(
  "each step of the run changes state one by one, live, on the exchange's rail",
  async (browser) => {
    await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "150", LANTERN_LOCAL_TOKEN_MS: "10" });
    const project = await createProject(server.url, "Steps");
    const page = await browser.newPage();
    await installRecorder(page);
    await openProject(page, server.url, project.id);
    await sendMessage(page, "Remember that the launch is on May 3");
    // While the run goes: an active step that pulses (motion is allowed
    // here), the connection's state and a Stop button, all seen at one moment.
    const during = await page.waitForFunction(
      () => {
        const icon = document.querySelector('[data-step][data-status="active"]');
        const connection = document.querySelector<HTMLElement>("[data-connection]");
        const stop = document.querySelector<HTMLElement>("[data-stop]");
        if (!icon) return null;
        return {
          animation: getComputedStyle(icon).animationName,
          connection: connection?.checkVisibility() ? connection.dataset.connection : null,
          stop: stop?.checkVisibility() ? stop.textContent : null,
        };
      },
      null,
      { polling: 25 },
    );
    assert.deepEqual(await during.jsonValue(), { animation: "pulse", connection: "live", stop: "Stop" });
    await waitForOutcome(page, "succeeded");

    const log = await changes(page);
    const activeAt = firstTimes(log, "active");
    const doneAt = firstTimes(log, "done");
    for (const step of STEPS) {
      assert.ok(activeAt.has(step), `step "${step}" was never seen active`);
      assert.ok(doneAt.has(step), `step "${step}" was never seen done`);
      assert.ok(activeAt.get(step)! < doneAt.get(step)!, `step "${step}" was done before it was active`);
    }
    for (let i = 1; i < STEPS.length; i++) {
      const before = STEPS[i - 1]!, step = STEPS[i]!;
      assert.ok(activeAt.get(before)! < activeAt.get(step)!, `"${step}" turned active before "${before}"`);
      assert.ok(
        doneAt.get(before)! <= activeAt.get(step)!,
        `"${step}" turned active before "${before}" was done`,
      );
    }
    // Distinct moments, spread over the run, all before the run's outcome.
    const moments = new Set([...activeAt.values(), ...doneAt.values()]);
    assert.ok(moments.size >= 6, `the steps changed at only ${moments.size} distinct moments`);
    const first = activeAt.get("start")!;
    const last = doneAt.get("completion")!;
    const spread = activeAt.get("completion")! - first;
    assert.ok(
      spread > (last - first) / 2,
      `steps turned active within ${spread.toFixed(0)} ms of a ${(last - first).toFixed(0)} ms run`,
    );
    assert.ok(outcomeAt(log, "succeeded") >= last, "the outcome showed before the last step was done");
    // An active step's elapsed time ticks while it runs.
    const ticks = new Map<string, Set<string>>();
    for (const c of log) {
      if (c.kind === "elapsed") ticks.set(c.key, (ticks.get(c.key) ?? new Set()).add(c.value));
    }
    assert.ok(
      [...ticks.values()].some((values) => values.size >= 2),
      `no active step's elapsed time changed while it was active`,
    );
    // Nothing is left active or pending; the rail folds into one line that
    // opens every step with its time and message.
    assert.equal(await page.locator('[data-step][data-status="done"]').count(), STEPS.length);
    const summary = (await page.locator("[data-summary]").last().textContent()) ?? "";
    assert.match(summary, new RegExp(`^${STEPS.length} steps · \\d+(\\.\\d)? (ms|s)$`));
    assert.equal(await page.locator("[data-step-detail]").count(), 0);
    await page.locator("[data-toggle-steps]").last().click();
    assert.equal(await page.locator("[data-step-detail]").count(), STEPS.length);
    for (const text of await page.locator("[data-step-detail] .step-time").allTextContents()) {
      assert.match(text, /^\d+(\.\d)? (ms|s)$/);
    }
    assert.equal(await page.locator("[data-step-detail] .step-message").count(), STEPS.length);
    // Why the action was chosen shows once, under planning; validation and
    // execution show the same action without repeating it.
    const details = async (step: string) =>
      (await page.locator(`[data-step-detail="${step}"] .step-details`).textContent()) ?? "";
    const planned = await details("planning");
    assert.match(planned, /^1\. save_memory\(.*\)\n {3}Why: “remember” asks to keep/);
    for (const step of ["validation", "execution"]) {
      assert.match(
        await details(step),
        /^1\. save_memory\(\{"text":"The launch is on May 3"/,
        `${step} details`,
      );
      assert.doesNotMatch(await details(step), /Why:/, `the ${step} step repeats the why`);
    }
    assert.match(
      (await page.locator('[data-step-detail="execution"] [data-update]').textContent()) ?? "",
      /^Saved "The launch is on May 3"/,
    );
    // Every step's icon is drawn (a mask from the styles).
    const masks = await page.locator("[data-step-detail] .step-icon").evaluateAll((icons) =>
      icons.map((icon) => {
        const style = getComputedStyle(icon, "::before");
        return style.maskImage.startsWith("url(") && style.width === "18px";
      })
    );
    assert.deepEqual(masks, STEPS.map(() => true));
    await screenshot(page, "02-steps-open", { fullPage: false });
    // The live region announced each step once, in order, then the outcome.
    const announced = log.filter((c) => c.kind === "announce" && c.value !== "").map((c) => c.value);
    for (const [i, step] of STEPS.entries()) {
      const lines = announced.filter((line) => line.startsWith(`Step ${i + 1} of ${STEPS.length},`));
      assert.equal(
        lines.length,
        1,
        `step "${step}" was announced ${lines.length} times: ${announced.join(" | ")}`,
      );
    }
    assert.equal(announced.at(-1), "Answer ready.");
    assert.equal(await page.locator("[aria-live]").count(), 1, "more than one live region");
  },
);

browserTest("the answer streams in, then the memory the run saved shows", async (browser) => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "20", LANTERN_LOCAL_TOKEN_MS: "80" });
  const project = await createProject(server.url, "Streaming");
  const page = await browser.newPage();
  await page.emulateMedia({ reducedMotion: "reduce" });
  await installRecorder(page);
  await openProject(page, server.url, project.id);
  await sendMessage(page, "Remember that the launch is on May 3");
  // Reduced motion: the caret is there but does not blink.
  const caret = await page.waitForFunction(
    () => {
      const el = document.querySelector('[data-live="streaming"] [data-answer] > :last-child');
      const after = el && getComputedStyle(el, "::after");
      return after && after.content !== "none" && after.animationName;
    },
    null,
    { polling: 25 },
  );
  assert.equal(await caret.jsonValue(), "none");
  await waitForOutcome(page, "succeeded");
  const memory = page.locator("[data-memories] li", { hasText: "The launch is on May 3" });
  await memory.waitFor();
  assert.equal(await memory.getAttribute("data-source"), "agent");
  assert.match((await memory.getAttribute("class")) ?? "", /\bfresh\b/);

  const log = await changes(page);
  const resultAt = outcomeAt(log, "succeeded");
  const growing = log.filter((c) => c.kind === "live" && c.t < resultAt && c.value !== "");
  const lengths = growing.map((c) => c.value.length);
  assert.ok(
    new Set(lengths).size >= 3,
    `the answer showed in ${lengths.length} steps only: ${lengths.join(",")}`,
  );
  for (let i = 1; i < growing.length; i++) {
    assert.ok(lengths[i]! >= lengths[i - 1]! - 4, `the answer shrank: ${lengths.join(",")}`);
  }
  // Then it joins the conversation, rendered from Markdown (bold, no stars).
  const answer = page.locator('[data-role="assistant"]').last();
  assert.match((await answer.textContent()) ?? "", /I'll remember: The launch is on May 3/);
  assert.equal(await answer.locator("strong").textContent(), "The launch is on May 3");
  assert.equal(await page.locator("[data-live]").count(), 0);
  await screenshot(page, "03-answer-and-memory");
});

browserTest("a page reloaded mid-run shows the timeline so far and finishes", async (browser) => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "500", LANTERN_LOCAL_TOKEN_MS: "10" });
  const project = await createProject(server.url, "Reload");
  const page = await browser.newPage();
  await installRecorder(page);
  await openProject(page, server.url, project.id);
  await sendMessage(page, "Remember that the launch is on May 3");
  await waitForShown(page, '[data-step="analyzing"][data-status="active"]');
  await page.reload();
  // The server renders where the run is, from its log: the first paint
  // already has the steps done so far (never "0 done").
  await waitForShown(page, '[data-outcome="running"]');
  const firstPaint = (await changes(page)).filter((c) => c.kind === "step").slice(0, STEPS.length);
  assert.equal(firstPaint.find((c) => c.key === "start")?.value, "done", JSON.stringify(firstPaint));
  assert.equal(firstPaint.find((c) => c.key === "context")?.value, "done", JSON.stringify(firstPaint));
  await page.waitForSelector(".chat[data-hydrated]");
  const midway = await page.locator('[data-step][data-status="done"]').count();
  assert.ok(midway < STEPS.length, "the run was over before the page came back");
  await screenshot(page, "04-reload-mid-run");
  await waitForOutcome(page, "succeeded");
  assert.equal(await page.locator('[data-step][data-status="done"]').count(), STEPS.length);
  // The message was sent once, and answered once.
  assert.equal(await page.locator('[data-role="user"]').count(), 1);
  assert.equal(await page.locator('[data-role="assistant"]').count(), 1);
  const log = await changes(page);
  assert.ok(
    log.some((c) => c.kind === "connection" && c.value === "live"),
    "the reloaded page never went live",
  );
});

browserTest("Stop ends the run, the page says so, and Retry sends the message again", async (browser) => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "300", LANTERN_LOCAL_TOKEN_MS: "10" });
  const project = await createProject(server.url, "Stop");
  const page = await browser.newPage();
  await openProject(page, server.url, project.id);
  await sendMessage(page, "Remember that the launch is on May 3");
  await waitForShown(page, '[data-step="analyzing"][data-status="active"]');
  // The composer is read-only with a reason while the run goes.
  const composer = page.locator("textarea[name=message]");
  assert.equal(await composer.getAttribute("aria-disabled"), "true");
  assert.match((await page.locator("[data-reason]").textContent()) ?? "", /working on your message/);
  await page.locator("[data-stop]").click();
  await waitForOutcome(page, "cancelled", 5_000);
  const stoppedAt = page.locator('[data-step][data-status="cancelled"]');
  assert.equal(await stoppedAt.count(), 1);
  // The folded line names the step it stopped at (wherever Stop landed).
  const where = STEP_LABELS[(await stoppedAt.getAttribute("data-step")) as StepName];
  assert.match(
    (await page.locator("[data-summary]").textContent()) ?? "",
    new RegExp(`^Stopped at ${where} · `),
  );
  assert.equal(await page.locator('[data-step="completion"]').getAttribute("data-status"), "skipped");
  assert.equal(await page.locator('[data-role="user"]').getAttribute("data-status"), "cancelled");
  const note = page.locator('[data-ended="cancelled"] .msg-note');
  await note.waitFor();
  assert.equal(await note.textContent(), "Stopped before an answer.");
  // Ready for the next message, with focus back in the composer.
  assert.equal(await composer.getAttribute("aria-disabled"), null);
  await page.waitForFunction(() => document.activeElement?.id === "message");
  const { body: runs } = await call<{ status: string }[]>(`${server.url}/api/projects/${project.id}/runs`);
  assert.equal(runs[0]?.status, "cancelled");
  await screenshot(page, "05-stopped");
  // Retry sends the same message as a new run, in a new exchange.
  await page.locator("[data-retry]").click();
  await page.waitForFunction(() => document.querySelectorAll("[data-exchange]").length === 2);
  await waitForOutcome(page, "succeeded");
  const sent = await page.locator('[data-role="user"]').allTextContents();
  assert.deepEqual(sent, ["Remember that the launch is on May 3", "Remember that the launch is on May 3"]);
  assert.equal(await page.locator("[data-retry]").count(), 1, "the stopped exchange keeps its Retry");
});

browserTest("without JavaScript the form sends a message and the page shows the answer", async (browser) => {
  await using server = await startServer();
  const project = await createProject(server.url, "No script");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/projects/${project.id}`);
  assert.ok(await page.locator(".notice").isVisible(), "no note that JavaScript is off");
  await page.fill("textarea[name=message]", "Remember that the launch is on May 3");
  await submitForm(page, page.getByRole("button", { name: "Send" }));
  assert.match(page.url(), /#latest$/);
  const answer = page.locator('[data-role="assistant"]').last();
  assert.match((await answer.textContent()) ?? "", /The launch is on May 3/);
  assert.equal(await page.locator("[data-memories] li").count(), 1);
  assert.equal(await page.locator(".chat[data-hydrated]").count(), 0, "the island ran with JavaScript off");
  // Forget works without JavaScript too.
  await submitForm(page, page.getByRole("button", { name: 'Forget "The launch is on May 3"' }));
  assert.equal(await page.locator(".memory-panel .empty").textContent(), "Nothing remembered yet.");
  await screenshot(page, "07-no-javascript");
  await context.close();
});

browserTest("without JavaScript Stop still stops a run", async (browser) => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "1000" });
  const project = await createProject(server.url, "No script stop");
  const { status } = await call(`${server.url}/api/projects/${project.id}/runs`, {
    body: { message: "Remember that the launch is on May 3" },
  });
  assert.equal(status, 202);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/projects/${project.id}`);
  // The server renders the run as going, with a Stop button that posts a form.
  assert.equal(await page.locator("[data-outcome]").getAttribute("data-outcome"), "running");
  await submitForm(page, page.locator("[data-stop]"));
  assert.equal(await page.locator("[data-outcome]").getAttribute("data-outcome"), "cancelled");
  assert.equal(
    await page.locator('[data-ended="cancelled"] .msg-note').textContent(),
    "Stopped before an answer.",
  );
  // Retry is a form too.
  await submitForm(page, page.locator("[data-retry]"));
  assert.equal(await page.locator("[data-exchange]").count(), 2);
  assert.equal(await page.locator("[data-outcome]").getAttribute("data-outcome"), "succeeded");
  await context.close();
});

browserTest(
  "keyboard only: skip to the composer, Shift+Enter for a new line, Enter sends",
  async (browser) => {
    await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "20" });
    const project = await createProject(server.url, "Keyboard");
    const page = await browser.newPage();
    await openProject(page, server.url, project.id);
    const focused = () =>
      page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.id);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "Skip to content");
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "Skip to your message");
    await page.keyboard.press("Enter");
    assert.equal(await focused(), "message");
    await page.keyboard.type("Remember that the demo is on Friday");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("in room 4");
    assert.equal(
      await page.inputValue("textarea[name=message]"),
      "Remember that the demo is on Friday\nin room 4",
    );
    assert.equal(await page.locator('[data-role="user"]').count(), 0, "Shift+Enter sent the message");
    await page.keyboard.press("Enter");
    await waitForOutcome(page, "succeeded");
    const sent = page.locator('[data-role="user"]');
    assert.equal(await sent.count(), 1);
    assert.equal(
      await sent.locator(".bubble").textContent(),
      "Remember that the demo is on Friday\nin room 4",
    );
    // Focus stays in the emptied composer, ready for the next message.
    await page.waitForFunction(() => document.activeElement?.id === "message");
    assert.equal(await page.inputValue("textarea[name=message]"), "");
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "Send");
    await screenshot(page, "08-keyboard");
  },
);

interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

browserTest("a finished run looks clean in light, dark and at 360 px, with AA contrast", async (browser) => {
  await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "0" });
  const project = await createProject(server.url, "Launch plan");
  await call(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "Remember that the launch is on May 3" },
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const scripts: string[] = [];
  page.on("request", (r) => {
    if (r.resourceType() === "script") scripts.push(new URL(r.url()).pathname);
  });
  await openProject(page, server.url, project.id);
  // The page opens on how the last run went.
  assert.equal(await page.locator("[data-outcome]").getAttribute("data-outcome"), "succeeded");
  assert.equal(await page.locator('[data-step][data-status="done"]').count(), STEPS.length);
  await sendMessage(page, "When is the launch?");
  await page.waitForFunction(() =>
    document.querySelectorAll('[data-role="assistant"]').length === 2 &&
    !document.querySelector("[data-live]") &&
    document.querySelector('[data-outcome="succeeded"]')
  );

  // The JavaScript the page loaded is what `deno task size` measures, within budget.
  const measured = await pageScripts();
  assert.deepEqual([...new Set(scripts)].sort(), measured.map((s) => s.path).sort());
  const gzip = measured.reduce((sum, s) => sum + s.gzipBytes, 0);
  assert.ok(gzip <= BUDGET_BYTES, `the page loads ${gzip} bytes of gzipped JavaScript`);
  // Only the latest exchange shows its steps; an earlier one is one line.
  assert.equal(await page.locator("[data-step]").count(), STEPS.length);
  assert.equal(await page.locator("[data-exchange]").first().locator("[data-step]").count(), 0);
  await page.locator("[data-exchange]").first().locator("[data-toggle-steps]").click();
  await page.locator("[data-exchange]").first().locator("[data-step-detail]").first().waitFor();
  assert.equal(await page.locator("[data-exchange]").first().locator("[data-step]").count(), STEPS.length);

  // Landmarks and labels.
  assert.equal(await page.locator("header").count(), 1);
  assert.equal(await page.locator("main").count(), 1);
  assert.equal(await page.getByRole("navigation", { name: "Breadcrumb" }).count(), 1);
  assert.equal(await page.getByLabel("Your message").count(), 1);

  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
    const failures = await page.evaluate(() => {
      const parse = (css: string): Rgba => {
        const srgb = css.match(/color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)(?: \/ ([\d.]+))?\)/);
        if (srgb) {
          return { r: +srgb[1]! * 255, g: +srgb[2]! * 255, b: +srgb[3]! * 255, a: srgb[4] ? +srgb[4] : 1 };
        }
        const n = css.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
        return { r: n[0]!, g: n[1]!, b: n[2]!, a: n[3] ?? 1 };
      };
      const over = (top: Rgba, bottom: Rgba): Rgba => ({
        r: top.r * top.a + bottom.r * (1 - top.a),
        g: top.g * top.a + bottom.g * (1 - top.a),
        b: top.b * top.a + bottom.b * (1 - top.a),
        a: 1,
      });
      const background = (el: Element | null): Rgba => {
        if (!el) return { r: 255, g: 255, b: 255, a: 1 };
        const own = parse(getComputedStyle(el).backgroundColor);
        return own.a >= 1 ? own : over(own, background(el.parentElement));
      };
      const luminance = ({ r, g, b }: Rgba) => {
        const f = (v: number) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || !node.textContent?.trim() || el.closest(".visually-hidden, .skip, [disabled]")) continue;
        if (!el.checkVisibility()) continue;
        const style = getComputedStyle(el);
        const bg = background(el);
        const fg = over(parse(style.color), bg);
        const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a) as [number, number];
        const ratio = (hi + 0.05) / (lo + 0.05);
        if (ratio < 4.5) out.push(`"${node.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
      }
      return out;
    });
    assert.deepEqual(failures, [], `text below AA contrast in the ${scheme} theme`);
    await screenshot(page, `09-finished-${scheme}`, { fullPage: false });
  }

  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 360, height: 780 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width} px wide at a 360 px viewport`);
  await screenshot(page, "10-finished-phone-360", { fullPage: false });
});

browserTest(
  "a long message folds behind Show more; a notice of a failed send clears once the network is back",
  async (browser) => {
    await using server = await startServer({ LANTERN_LOCAL_PACE_MS: "0" });
    const project = await createProject(server.url, "Long");
    const long = Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of a long note to remember.`).join("\n");
    await call(`${server.url}/api/projects/${project.id}/chat`, {
      body: { message: `Remember that ${long}` },
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await openProject(page, server.url, project.id);
    const bubble = page.locator('[data-role="user"] .bubble');
    const folded = (await bubble.boundingBox())!.height;
    assert.ok(folded < 260, `a 40-line message is ${folded} px tall, folded`);
    await page.getByRole("button", { name: "Show more" }).click();
    assert.ok((await bubble.boundingBox())!.height > folded * 2, "Show more did not unfold the message");
    assert.equal(await page.getByRole("button", { name: "Show less" }).count(), 1);

    await context.setOffline(true);
    await sendMessage(page, "When is the launch?");
    const problem = page.locator("[data-problem]");
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? "", /^Your message was not sent/);
    assert.equal(
      await page.inputValue("textarea[name=message]"),
      "When is the launch?",
      "the draft was lost",
    );
    await context.setOffline(false);
    await problem.waitFor({ state: "detached" });
    await context.close();
  },
);
