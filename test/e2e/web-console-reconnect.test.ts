import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import {
  assertAccessible,
  type BrowserSession,
  openBrowser,
  progressSamples,
  recordProgress,
  signIn,
  waitInPage,
} from "../helpers/browser.js";
import { type ConsoleServer, startConsoleServer } from "../helpers/console-server.js";
import { fixturePhoto } from "../helpers/fixtures.js";

/**
 * The live scene board through a dropped WebSocket: the API process is stopped mid-job (a graceful
 * stop closes every socket from the server side) while the worker process keeps rendering, then
 * started again. The board shows "Reconnecting…", resumes after the last sequence it saw, and ends
 * at 100 % with every event applied once. Then GraphiQL at /graphiql, bundled, with the key.
 */

const PHOTOS = ["exterior-01.jpg", "living-01.jpg", "kitchen-01.jpg", "pool-01.jpg"];
const SCENES = 3;
const JOB_TIMEOUT_MS = 180_000;

describe("the web console through a dropped WebSocket, and GraphiQL", () => {
  let server: ConsoleServer;
  let browser: BrowserSession;
  let page: Page;
  let jobId: string;

  before(async () => {
    server = await startConsoleServer("web-reconnect");
    const { createCampaign } = await server.graphql<{ createCampaign: { id: string } }>(
      `mutation { createCampaign(input: { name: "Reconnect house" }) { id } }`,
    );
    const form = new FormData();
    for (const name of PHOTOS) form.append("file", new Blob([await readFile(fixturePhoto(name))]), name);
    const uploaded = await fetch(`${server.origin}/v1/campaigns/${createCampaign.id}/assets`, {
      method: "POST",
      headers: { "x-api-key": server.key },
      body: form,
    });
    assert.equal(uploaded.status, 200, await uploaded.text());
    browser = await openBrowser(server.origin);
    page = browser.page;
    page.setDefaultTimeout(30_000);
    await signIn(page, server.origin, server.key);
    // Short scenes keep the run short on a busy machine; the restart still lands mid-job.
    ({
      createVideoJob: { id: jobId },
    } = await server.graphql<{ createVideoJob: { id: string } }>(
      `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: ${SCENES}, secondsPerScene: 2 }) { id } }`,
      { c: createCampaign.id },
    ));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("reconnects after the server closes the socket, resumes, and ends at 100 % with nothing missed", async () => {
    await page.goto(`${server.origin}/jobs/${jobId}`);
    await page.getByRole("heading", { name: "Video for Reconnect house" }).waitFor();
    await recordProgress(page);
    await waitInPage(
      page,
      `() => [...document.querySelectorAll('[role="progressbar"][aria-label^="Scene"]')].some(
        (bar) => Number(bar.getAttribute("aria-valuenow")) > 0,
      )`,
      [],
      JOB_TIMEOUT_MS,
      "a scene rendering",
    );
    await server.stopApi();
    await page.getByRole("status", { name: "Live updates: Reconnecting…" }).waitFor();
    await assertAccessible(page, "job reconnecting");
    await server.startApi();
    await page.locator('video[aria-label="Property video"]').waitFor({ timeout: JOB_TIMEOUT_MS });
    await page.getByRole("status", { name: /Live updates: (Live|Finished)/ }).waitFor();

    for (let scene = 1; scene <= SCENES; scene++) {
      const bar = page.getByRole("progressbar", { name: `Scene ${scene}` });
      assert.equal(await bar.getAttribute("aria-valuenow"), "100", `scene ${scene}`);
    }
    assert.equal(await page.getByRole("progressbar", { name: "Video" }).getAttribute("aria-valuenow"), "100");
    const board = page.locator("[data-last-sequence]");
    assert.equal(
      await board.getAttribute("data-last-sequence"),
      String(await server.lastSequence(jobId)),
      "every event was applied",
    );
    assert.equal(await board.getAttribute("data-gaps"), "0", "no event was missed");
    assert.equal(await board.getAttribute("data-repeats"), "0", "no event came twice");
    // Through the drop every bar only moved forward.
    const { samples } = await progressSamples(page);
    for (let scene = 1; scene <= SCENES; scene++) {
      const values = samples
        .filter((sample) => sample.label === `Scene ${scene}`)
        .map((sample) => sample.value);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        `scene ${scene}: ${values.join(",")}`,
      );
    }
  });

  it("serves GraphiQL at /graphiql, bundled, with the key for queries and subscriptions", async () => {
    const redirected = await fetch(`${server.origin}/graphql`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.get("location"), "/graphiql");
    // The console's key (session storage, same tab) is GraphiQL's key.
    await page.goto(`${server.origin}/graphql`);
    assert.equal(new URL(page.url()).pathname, "/graphiql");
    const execute = page.getByRole("button", { name: /Execute query/ });
    await execute.waitFor();
    const response = page.locator(".result-window");
    const run = async (operation: string) => {
      await page.locator(".graphiql-query-editor .monaco-editor").first().click();
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.press("Delete");
      await page.keyboard.insertText(operation);
      // GraphiQL parses the editor 100 ms after the last change (debounced) and picks the
      // transport from that parse: a click before it would send the previous document's kind.
      // The same debounced step saves the text, which is what is waited for.
      await waitInPage(
        page,
        "(operation) => localStorage.getItem('graphiql:query') === operation",
        [operation],
        10_000,
        "GraphiQL to take the edit",
      );
      await execute.click();
    };
    await run("{ viewer { tenant { name } } }");
    await response.getByText('"web-reconnect"').waitFor();
    await run(`subscription { videoJobProgress(jobId: "${jobId}") { type job { status } } }`);
    await response.getByText('"SNAPSHOT"').waitFor();
    await response.getByText('"SUCCEEDED"').waitFor();
  });

  it("loaded nothing from another origin and raised no page errors", () => {
    assert.deepEqual(browser.foreignRequests, []);
    assert.deepEqual(browser.pageErrors, []);
  });
});
