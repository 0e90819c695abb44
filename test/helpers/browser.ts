import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core (no browser download: `.ci/run` installs the
 * `chromium` package). Without the background-networking flags Chromium reaches for Google's
 * services, which this machine cannot reach and the tests forbid.
 */
export const CHROMIUM_PATH = process.env.PROPVID_TEST_CHROMIUM ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // The tests play the video without a user gesture.
  "--autoplay-policy=no-user-gesture-required",
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Requests to any other origin than the page's (they are also aborted). */
  foreignRequests: string[];
  /** Uncaught exceptions and CSP violations in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * A fresh profile (its own --user-data-dir) that may talk to `origin` only: requests elsewhere are
 * recorded and, with `block` (the default), aborted. Blocking intercepts every request, which turns
 * Chromium's HTTP cache off: benchmarks of cached loads pass `block: false` and check the record.
 */
export async function openBrowser(
  origin: string,
  options: { block?: boolean } = {},
): Promise<BrowserSession> {
  const profile = mkdtempSync(path.join(os.tmpdir(), "propvid-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];
  const foreign = (url: URL) => !["data:", "blob:"].includes(url.protocol) && url.origin !== origin;
  context.on("request", (request) => {
    if (foreign(new URL(request.url()))) foreignRequests.push(request.url());
  });
  if (options.block !== false) await context.route(foreign, (route) => route.abort("blockedbyclient"));
  // WebSockets bypass both: check their URLs as they open.
  context.on("page", (page) => watchPage(page, origin, foreignRequests, pageErrors));
  const page = context.pages()[0] ?? (await context.newPage());
  watchPage(page, origin, foreignRequests, pageErrors);
  return {
    context,
    page,
    foreignRequests,
    pageErrors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function watchPage(page: Page, origin: string, foreign: string[], errors: string[]): void {
  const wsOrigin = origin.replace(/^http/, "ws");
  page.on("websocket", (socket) => {
    if (!socket.url().startsWith(`${wsOrigin}/`)) foreign.push(socket.url());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text()))
      errors.push(message.text());
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * In the page: waits for the transitions and animations that end (a dialog fading in, Mantine's
 * 200 ms) to end; endless ones (a loader's spin) are left running. axe-core measures contrast
 * with the opacity of the moment: halfway through a fade every label of a dialog fails.
 */
const SETTLED = `Promise.all(
  document
    .getAnimations()
    .filter((animation) => Number.isFinite(animation.effect?.getComputedTiming().endTime))
    .map((animation) => animation.finished.catch(() => undefined)),
).then(() => undefined)`;

/**
 * Runs axe-core on what the page shows once its transitions have ended and returns its serious
 * and critical violations (as readable lines). Injected through the DevTools protocol, so the
 * page's CSP stays strict.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(SETTLED);
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations)",
  )) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) =>
        `${violation.impact} ${violation.id} (${violation.help}): ${violation.nodes
          .slice(0, 5)
          .map((node) => JSON.stringify(node.target))
          .join(", ")}`,
    );
}

export interface ProgressSample {
  label: string;
  value: number;
  /** performance.timeOrigin + performance.now() in the page: comparable with Date.now() here. */
  at: number;
}

/**
 * In the page (this compilation has no DOM types, so it is kept as source text): records every
 * value each progress bar shows (its aria-valuenow, as it is set) and when the finished <video>
 * first appears. Times are performance.timeOrigin + performance.now(): comparable with Date.now().
 */
const PROGRESS_RECORDER = `(() => {
  window.__samples = [];
  window.__videoAt = null;
  if (window.__recorder) return;
  const now = () => performance.timeOrigin + performance.now();
  const record = (element) => {
    if (element.getAttribute("role") !== "progressbar") return;
    window.__samples.push({
      label: element.getAttribute("aria-label") ?? "",
      value: Number(element.getAttribute("aria-valuenow")),
      at: now(),
    });
  };
  const video = 'video[aria-label="Property video"]';
  window.__recorder = new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.type === "attributes") {
        record(mutation.target);
        continue;
      }
      for (const node of mutation.addedNodes) {
        if (!(node instanceof Element)) continue;
        record(node);
        for (const bar of node.querySelectorAll('[role="progressbar"]')) record(bar);
        if (window.__videoAt === null && (node.matches(video) || node.querySelector(video))) window.__videoAt = now();
      }
    }
  });
  window.__recorder.observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["aria-valuenow"],
  });
})()`;

/** Starts (or restarts) recording progress bar values in the page; read them with `progressSamples`. */
export async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(PROGRESS_RECORDER);
}

/** What the recorder saw since it was (re)started or last read; reading clears it. */
export async function progressSamples(
  page: Page,
): Promise<{ samples: ProgressSample[]; videoAt: number | null }> {
  return (await page.evaluate(`(() => {
    const taken = { samples: window.__samples, videoAt: window.__videoAt };
    window.__samples = [];
    window.__videoAt = null;
    return taken;
  })()`)) as { samples: ProgressSample[]; videoAt: number | null };
}

/**
 * Calls a function given as source text in the page with JSON arguments, through the DevTools
 * protocol (Playwright's own waitForFunction compiles its predicate with eval, which the
 * console's CSP forbids, as it should).
 */
export async function callInPage<T>(page: Page, functionSource: string, ...args: unknown[]): Promise<T> {
  return (await page.evaluate(`(${functionSource})(...${JSON.stringify(args)})`)) as T;
}

/** Polls a predicate (function source text) in the page until it returns true. */
export async function waitInPage(
  page: Page,
  predicateSource: string,
  args: unknown[],
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await callInPage<boolean>(page, predicateSource, ...args))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Signs in to the console with the API key, as a person would. */
export async function signIn(page: Page, origin: string, key: string): Promise<void> {
  if (!page.url().startsWith(origin)) await page.goto(`${origin}/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Campaigns" }).waitFor();
}

/** Fails with the list of serious or critical axe-core violations on what the page shows now. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  const violations = await accessibilityViolations(page);
  if (violations.length > 0) throw new Error(`accessibility of ${screen}:\n  ${violations.join("\n  ")}`);
}
