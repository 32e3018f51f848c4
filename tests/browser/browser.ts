/**
 * Browser test helpers: Debian's Chromium driven by playwright-core, a test
 * wrapper that skips (or, in CI, fails) without a browser, screenshots under
 * tests/screenshots/, and an in-page recorder of what the page shows over
 * time.
 *
 * @module
 */

import { type Browser, chromium, type Locator, type Page } from "playwright-core";

/** Where Chromium is expected (`LANTERN_CHROMIUM` overrides it). */
export const CHROMIUM_PATH = Deno.env.get("LANTERN_CHROMIUM") || "/usr/bin/chromium";

/** Set by .ci/run: a missing browser fails the tests instead of skipping them. */
const REQUIRED = Deno.env.get("LANTERN_REQUIRE_BROWSER") === "1";

function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

const PRESENT = hasChromium();
const SKIP = !PRESENT && !REQUIRED;
if (SKIP) {
  console.log(
    `Browser tests skipped: no Chromium at ${CHROMIUM_PATH}. Install it with \`apt-get install chromium\` to run them.`,
  );
}

/** The folder CI prints and keeps: one PNG per case. */
export const SCREENSHOTS = new URL("../screenshots/", import.meta.url);

/** Launches a headless Chromium with a fresh profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Saves a screenshot as tests/screenshots/`name`.png and prints its path:
 * the whole page, or with `fullPage: false` what the window shows.
 */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const path = new URL(`${name}.png`, SCREENSHOTS).pathname;
  await page.screenshot({ path, fullPage });
  console.log(`screenshot: tests/screenshots/${name}.png`);
  return path;
}

/**
 * A browser test: launches Chromium, hands it over, closes it. Without a
 * browser it is skipped (one line says how to install it), unless
 * `LANTERN_REQUIRE_BROWSER=1`, where it fails. On failure every open page
 * is saved as `failed-<name>`.
 */
export function browserTest(name: string, fn: (browser: Browser) => Promise<void>): void {
  Deno.test({
    name,
    ignore: SKIP,
    async fn() {
      if (!PRESENT) {
        throw new Error(
          `LANTERN_REQUIRE_BROWSER=1 but there is no Chromium at "${CHROMIUM_PATH}"; install it with \`apt-get install chromium\`.`,
        );
      }
      const browser = await launchBrowser();
      try {
        await fn(browser);
      } catch (error) {
        const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 60);
        const pages = browser.contexts().flatMap((c) => c.pages());
        for (const [i, page] of pages.entries()) {
          await screenshot(page, `failed-${slug}${i ? `-${i}` : ""}`).catch(() => {});
        }
        throw error;
      } finally {
        await browser.close();
      }
    },
  });
}

/** One change the recorder saw: what, its new value, and when (page time, ms). */
export interface Change {
  kind: "step" | "elapsed" | "connection" | "words" | "live" | "announce" | "outcome";
  key: string;
  value: string;
  t: number;
}

/**
 * Installs, before any page script runs, a MutationObserver that records
 * every change of a step's `data-status` (and of the active step's elapsed
 * time), of `[data-connection]` and its words, of the
 * streaming answer's text, of the live region's text and of the outcome
 * badge, with `performance.now()`. Read it with {@linkcode changes}.
 */
export async function installRecorder(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const log: Change[] = [];
    const last = new Map<string, string>();
    (globalThis as unknown as { __changes: Change[] }).__changes = log;
    const note = (kind: Change["kind"], key: string, value: string) => {
      const id = `${kind}:${key}`;
      if (last.get(id) === value) return;
      last.set(id, value);
      log.push({ kind, key, value, t: performance.now() });
    };
    const scan = () => {
      for (const el of document.querySelectorAll<HTMLElement>("[data-step]")) {
        note("step", el.dataset.step ?? "", el.dataset.status ?? "");
        if (el.dataset.status === "active") {
          note("elapsed", el.dataset.step ?? "", document.querySelector("[data-elapsed]")?.textContent ?? "");
        }
      }
      const conn = document.querySelector<HTMLElement>("[data-connection]");
      note("connection", "", conn?.dataset.connection ?? "none");
      note("words", "", conn?.textContent ?? "");
      const live = document.querySelector<HTMLElement>('[data-live="streaming"] [data-answer]');
      note("live", "", live?.textContent ?? "");
      const announcer = document.querySelector<HTMLElement>("[data-announcer]");
      note("announce", "", announcer?.textContent ?? "");
      const outcome = document.querySelector<HTMLElement>("[data-outcome]");
      note("outcome", "", outcome?.dataset.outcome ?? "none");
    };
    new MutationObserver(scan).observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  });
}

/** What the recorder saw so far on the current page. */
export function changes(page: Page): Promise<Change[]> {
  return page.evaluate(() => (globalThis as unknown as { __changes: Change[] }).__changes ?? []);
}

/** Opens a project page and waits for its island to take over. */
export async function openProject(page: Page, url: string, projectId: string): Promise<void> {
  await page.goto(`${url}/projects/${projectId}`);
  await page.waitForSelector(".chat[data-hydrated]");
}

/** Types a message in the composer and presses Enter to send it. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.fill("textarea[name=message]", text);
  await page.press("textarea[name=message]", "Enter");
}

/** Waits until the latest run's rail shows `outcome` (running, succeeded, failed, cancelled). */
export async function waitForOutcome(page: Page, outcome: string, timeout = 20_000): Promise<void> {
  await page.waitForSelector(`[data-outcome="${outcome}"]`, { timeout });
}

/**
 * Waits until an element matching `selector` is in the page, checking every
 * 25 ms: for states that last a moment (a step being active), which
 * Playwright's own waiting, whose checks space out to half a second, can miss.
 */
export async function waitForShown(page: Page, selector: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction((s) => document.querySelector(s) !== null, selector, { polling: 25, timeout });
}

/**
 * Clicks `button` to submit a form the old way (no JavaScript) and returns
 * once the page the POST redirected to has loaded. A refused POST fails at
 * once with the server's answer, not after a timeout.
 */
export async function submitForm(page: Page, button: Locator): Promise<void> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.request().resourceType() === "document"),
    button.click(),
  ]);
  if (response.status() >= 400) {
    const body = await response.text().catch(() => "");
    throw new Error(
      `The form post to ${new URL(response.url()).pathname} answered ${response.status()}: ${body}`,
    );
  }
  await page.waitForLoadState("load");
}
