/**
 * The server goes away mid-run: a graceful restart on the same port and KV
 * file (the page shows offline, then reconnecting, then live, and the run
 * finishes), and a crash (the page shows where the run stopped and what to
 * do next). Registered by ui_test.ts, so all browser tests share one test
 * module and a machine without Chromium prints its skip line once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { STEPS } from "../../lib/protocol.ts";
import type { Page } from "playwright-core";
import { type ChildServer, createProject, freePort, spawnServer } from "../helpers.ts";
import {
  browserTest,
  changes,
  installRecorder,
  openProject,
  screenshot,
  sendMessage,
  waitForShown,
} from "./browser.ts";

browserTest("the page rides out a server restart: offline, reconnecting, live, finished", async (browser) => {
  const dir = await Deno.makeTempDir({ prefix: "lantern-restart-" });
  const env = {
    LANTERN_KV_PATH: `${dir}/lantern.kv`,
    PORT: String(freePort()),
    // Slow enough that the run is still going when the server stops; the
    // grace period lets it finish into the log while the server is away.
    LANTERN_LOCAL_PACE_MS: "500",
    LANTERN_LOCAL_TOKEN_MS: "10",
    LANTERN_SHUTDOWN_GRACE_MS: "15000",
  };
  let server = await spawnServer(env);
  let page: Page | undefined;
  try {
    const project = await createProject(server.url, "Restart");
    page = await browser.newPage();
    await installRecorder(page);
    await openProject(page, server.url, project.id);
    await sendMessage(page, "Remember that the launch is on May 3");
    await waitForShown(page, '[data-step="context"][data-status="active"]');
    await waitForShown(page, '[data-connection="live"]');

    // SIGTERM: followers get a final comment and the listener closes; the
    // process exits once the run has finished.
    const stopped = server.kill("SIGTERM");
    await waitForShown(page, '[data-connection="offline"]', 10_000);
    await screenshot(page, "06-server-offline");
    const status = await stopped;
    assert.equal(status.code, 0, `the server did not exit cleanly:\n${server.output()}`);

    server = await spawnServer(env);
    await page.waitForSelector('[data-outcome="succeeded"]', { timeout: 20_000 });
    await screenshot(page, "06-server-back");

    const log = await changes(page);
    const states = log.filter((c) => c.kind === "connection").map((c) => c.value);
    const offline = states.indexOf("offline");
    const reconnecting = states.indexOf("reconnecting", offline);
    const live = states.indexOf("live", reconnecting);
    assert.ok(
      offline > 0 && reconnecting > offline && live > reconnecting,
      `expected offline, then reconnecting, then live; saw ${states.join(" → ")}`,
    );
    assert.equal(await page.locator('[data-step][data-status="done"]').count(), STEPS.length);
    // The words said what happened: a server that went away, then came back as a new one.
    const words = log.filter((c) => c.kind === "words").map((c) => c.value);
    assert.ok(words.includes("The server cannot be reached; retrying"), words.join(" → "));
    assert.ok(words.includes("The server restarted; catching up"), words.join(" → "));
    assert.equal(await page.locator("[data-problem]").count(), 0, "a notice outlived the outage");
    const answer = page.locator('[data-role="assistant"]').last();
    await page.waitForFunction(() => !document.querySelector("[data-live]"));
    assert.match((await answer.textContent()) ?? "", /The launch is on May 3/);
    assert.equal(await page.locator('[data-role="user"]').count(), 1, "the message was sent twice");
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await diagnose(page, server)}`, { cause: error });
  } finally {
    await server.kill("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
});

/** What the page went through and what the server said, for a failure's message. */
async function diagnose(page: Page | undefined, server: ChildServer): Promise<string> {
  const log = page ? await changes(page).catch(() => []) : [];
  const shown = (kind: string) =>
    log.filter((c) => c.kind === kind).map((c) => `${c.key ? `${c.key}=` : ""}${c.value}`).join(" → ");
  return `connection: ${shown("connection")}\nsteps: ${shown("step")}\nserver output:\n${server.output()}`;
}

browserTest("a run cut short by a crash shows where it stopped and what to do next", async (browser) => {
  const dir = await Deno.makeTempDir({ prefix: "lantern-crash-" });
  const env = {
    LANTERN_KV_PATH: `${dir}/lantern.kv`,
    PORT: String(freePort()),
    LANTERN_LOCAL_PACE_MS: "500",
    // A short lease, so the restarted server finds the dead one's run soon.
    LANTERN_LEASE_MS: "500",
  };
  let server = await spawnServer(env);
  let page: Page | undefined;
  try {
    const project = await createProject(server.url, "Crash");
    page = await browser.newPage();
    await installRecorder(page);
    await openProject(page, server.url, project.id);
    await sendMessage(page, "Remember that the launch is on May 3");
    await waitForShown(page, '[data-step="analyzing"][data-status="active"]');
    await server.kill("SIGKILL");
    server = await spawnServer(env);
    await page.waitForSelector('[data-outcome="failed"]', { timeout: 20_000 });
    const states = (await changes(page)).filter((c) => c.kind === "connection").map((c) => c.value);
    assert.ok(!states.includes("fallback"), "the page gave up on live updates");
    // The error sits on the step where the run stopped; the exchange says
    // what happened, once, and offers Retry.
    const failed = page.locator('[data-step][data-status="error"]');
    assert.equal(await failed.count(), 1);
    assert.equal(await page.locator('[data-step="completion"]').getAttribute("data-status"), "skipped");
    assert.match((await page.locator("[data-summary]").textContent()) ?? "", /^Interrupted at /);
    const note = page.locator('[data-ended="interrupted"] .msg-note');
    await note.waitFor();
    const text = (await note.textContent()) ?? "";
    assert.match(text, /^Interrupted: The server stopped/);
    assert.equal(text.split("Send your message again.").length - 1, 1, `no single next step in "${text}"`);
    assert.equal(await page.locator("[data-retry]").count(), 1);
    await screenshot(page, "06-interrupted");
    await page.locator("[data-retry]").click();
    await page.waitForSelector('[data-exchange]:nth-child(2) [data-outcome="succeeded"]', {
      timeout: 20_000,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await diagnose(page, server)}`, { cause: error });
  } finally {
    await server.kill("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
});
