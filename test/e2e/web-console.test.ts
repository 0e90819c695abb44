import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page, Route } from "playwright-core";
import {
  assertAccessible,
  type BrowserSession,
  callInPage,
  openBrowser,
  type ProgressSample,
  progressSamples,
  recordProgress,
  signIn,
  waitInPage,
} from "../helpers/browser.js";
import { type ConsoleServer, startConsoleServer } from "../helpers/console-server.js";
import { FIXTURE_PHOTOS_DIR } from "../helpers/fixtures.js";

/**
 * The web console in Chromium against the real service: an `--role api` process serving the
 * built console and a `--role worker` process rendering. Sign in (a bad key first), create a
 * campaign, upload 10 photos, make a 3-scene video and watch every scene's bar move, play and
 * seek, re-roll a scene, download. axe-core checks every screen; any request to another origin
 * fails the run. (The dropped WebSocket and GraphiQL: web-console-reconnect.test.ts.)
 */

const PHOTOS = [
  "exterior-01.jpg",
  "exterior-02.jpg",
  "living-01.jpg",
  "living-03.jpg",
  "kitchen-01.jpg",
  "dining-01.jpg",
  "bedroom-01.jpg",
  "bath-01.jpg",
  "pool-01.jpg",
  "view-02.jpg",
];
const SCENES = 3;
const JOB_TIMEOUT_MS = 240_000;

/** In the page: play a little (muted), then seek and wait until the frame there is decoded. */
const PLAY_AND_SEEK = `async () => {
  const video = document.querySelector('video[aria-label="Property video"]');
  video.muted = true;
  await video.play();
  const deadline = Date.now() + 20000;
  while (video.currentTime < 0.3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const playing = video.currentTime;
  video.pause();
  const target = Math.min(video.duration - 1, 8);
  await new Promise((resolve) => {
    video.addEventListener("seeked", resolve, { once: true });
    video.currentTime = target;
  });
  if (video.readyState < 2) await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  return { playing, duration: video.duration, target, at: video.currentTime };
}`;

describe("the web console in Chromium", () => {
  let server: ConsoleServer;
  let origin: string;
  let browser: BrowserSession;
  let page: Page;
  let campaignId: string;
  const screens: string[] = [];

  /** axe-core on what is on screen now: no serious or critical violations. */
  const checkScreen = async (name: string) => {
    screens.push(name);
    await assertAccessible(page, name);
  };

  const videoSource = () => page.locator('video[aria-label="Property video"]').getAttribute("src");

  before(async () => {
    server = await startConsoleServer("web-console");
    origin = server.origin;
    browser = await openBrowser(origin);
    page = browser.page;
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("says clearly that a bad key was not accepted", async () => {
    await page.goto(`${origin}/`);
    await checkScreen("sign-in");
    await page.getByLabel("API key").fill("pv_0123456789_not-a-real-key-not-a-real-key-not-a-real-key-xx");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? "", /API key was not accepted/);
    await checkScreen("sign-in with an error");
  });

  it("signs in and creates a campaign", async () => {
    await signIn(page, origin, server.key);
    assert.equal(new URL(page.url()).search + new URL(page.url()).hash, "", "no key in the URL");
    await checkScreen("campaign list");
    await page.getByRole("button", { name: "New campaign" }).click();
    await page.getByLabel("Campaign name").fill("12 Ocean Drive");
    await checkScreen("new campaign dialog");
    await page.getByRole("button", { name: "Create campaign" }).click();
    await page.getByRole("heading", { name: "12 Ocean Drive" }).waitFor();
    campaignId = page.url().split("/campaigns/")[1]!;
    assert.match(campaignId, /^[0-9a-f-]{36}$/);
  });

  it("keeps a screen accessible while its data loads", async () => {
    // The campaign list's query is held until axe has looked at the screen it leaves.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const isGraphql = (url: URL) => url.pathname === "/graphql";
    const handled: Promise<void>[] = [];
    const hold = (route: Route) => {
      const request = route.request();
      const holding = /campaigns/i.test(decodeURIComponent(request.postData() ?? request.url()));
      const handling = (async () => {
        if (holding) await held;
        await route.continue();
      })();
      handled.push(handling);
      return handling;
    };
    await page.route(isGraphql, hold);
    try {
      await page.goto(`${origin}/`);
      await page.locator('[aria-label="Loading campaigns"]').waitFor();
      await checkScreen("campaign list, loading");
    } finally {
      release();
      // every held request goes on before the route is removed (a handler still running then throws)
      await Promise.allSettled(handled);
      await page.unroute(isGraphql, hold);
    }
    await page.getByRole("button", { name: "New campaign" }).waitFor();
    await page.goto(`${origin}/campaigns/${campaignId}`);
    await page.getByRole("heading", { name: "12 Ocean Drive" }).waitFor();
  });

  it("uploads 10 photos through the file input, each with its own progress bar", async () => {
    await page
      .getByLabel("Add photos")
      .setInputFiles(PHOTOS.map((name) => path.join(FIXTURE_PHOTOS_DIR, name)));
    // Each upload has its own bar, which ends at 100 % with "Uploaded"; the grid shows the photo (alt = file name).
    const uploads = page.getByRole("list", { name: "Uploads" });
    await waitInPage(
      page,
      `(count) => [...document.querySelectorAll('[aria-label="Uploads"] li')].filter(
        (item) => item.textContent.includes("Uploaded"),
      ).length === count`,
      [PHOTOS.length],
      120_000,
      "every upload to finish",
    );
    for (const name of PHOTOS) {
      assert.equal(
        await uploads.getByRole("progressbar", { name: `Uploading ${name}` }).getAttribute("aria-valuenow"),
        "100",
      );
      await page.getByAltText(name, { exact: true }).waitFor();
    }
    await checkScreen("campaign with photos");
  });

  let jobId: string;

  it("makes a 3-scene video: each scene's bar takes three values or more before the video is ready", async () => {
    await page.getByRole("button", { name: "Make video" }).click();
    await page.getByLabel("Scenes").fill(String(SCENES));
    await page.getByRole("table", { name: "Estimated cost" }).getByText("scene 3").waitFor();
    await checkScreen("make video dialog");
    await recordProgress(page);
    // A double click sends the same idempotency key twice: one job.
    await page.getByRole("button", { name: "Start" }).dblclick();
    await page.waitForURL(/\/jobs\//);
    jobId = page.url().split("/jobs/")[1]!;
    // A bar at 0 % has no width: attached, not visible.
    await page.getByRole("progressbar", { name: "Scene 1" }).waitFor({ state: "attached" });
    await checkScreen("job running");
    await page.locator('video[aria-label="Property video"]').waitFor({ timeout: JOB_TIMEOUT_MS });

    const { samples, videoAt } = await progressSamples(page);
    assert.ok(videoAt !== null);
    for (let scene = 1; scene <= SCENES; scene++) {
      const seen: ProgressSample[] = samples.filter(
        (sample) => sample.label === `Scene ${scene}` && sample.at <= videoAt!,
      );
      const values: number[] = [...new Set(seen.map((sample) => sample.value))];
      assert.ok(values.length >= 3, `scene ${scene} showed ${JSON.stringify(values)}`);
      assert.equal(values.at(-1), 100);
    }
    assert.equal(await page.getByRole("progressbar", { name: "Video" }).getAttribute("aria-valuenow"), "100");
    const jobs = await server.graphql<{ campaign: { videoJobs: { edges: unknown[] } } }>(
      "query($id: ID!) { campaign(id: $id) { videoJobs(first: 10) { edges { cursor } } } }",
      { id: campaignId },
    );
    assert.equal(jobs.campaign.videoJobs.edges.length, 1, "the double click made one job");
    await checkScreen("job finished");
  });

  it("plays the video and seeks in it", async () => {
    const ranges: number[] = [];
    page.on("response", (response) => {
      if (response.url().includes("/v1/media/")) ranges.push(response.status());
    });
    const played = await callInPage<{ playing: number; duration: number; target: number; at: number }>(
      page,
      PLAY_AND_SEEK,
    );
    assert.ok(played.playing > 0.2, `it played (${played.playing} s)`);
    // the scenes and the listing video's 3 s outro card
    assert.ok(Math.abs(played.duration - (SCENES * 4 + 3)) < 0.5, `duration ${played.duration}`);
    assert.ok(Math.abs(played.at - played.target) < 0.1, `seeked to ${played.at} s`);
    assert.ok(ranges.includes(206), `the player asked for byte ranges (${ranges.join(",")})`);
  });

  it("re-rolls a scene and shows the re-assembled video", async () => {
    const before = new URL((await videoSource())!, origin).pathname;
    await page.getByRole("button", { name: "Re-roll scene 2" }).click();
    await page.getByLabel("Camera move").selectOption("PAN_LEFT");
    await checkScreen("re-roll dialog");
    await page.getByRole("button", { name: "Re-roll", exact: true }).click();
    await waitInPage(
      page,
      `(old) => {
        const video = document.querySelector('video[aria-label="Property video"]');
        return !!video && new URL(video.getAttribute("src"), location.href).pathname !== old;
      }`,
      [before],
      JOB_TIMEOUT_MS,
      "the re-assembled video",
    );
    const { videoJob } = await server.graphql<{ videoJob: { status: string } }>(
      "query($id: ID!) { videoJob(id: $id) { status } }",
      { id: jobId },
    );
    assert.equal(videoJob.status, "SUCCEEDED");
    assert.match((await page.getByRole("article", { name: "Scene 2" }).textContent()) ?? "", /Pan left/);
  });

  it("downloads the video", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download" }).click(),
    ]);
    assert.match(download.suggestedFilename(), /\.mp4$/);
    const bytes = readFileSync((await download.path())!);
    assert.ok(bytes.length > 100_000, `${bytes.length} bytes`);
    assert.equal(bytes.subarray(4, 8).toString("latin1"), "ftyp");
  });

  it("loaded nothing from another origin and raised no page errors on any screen", () => {
    assert.deepEqual(browser.foreignRequests, []);
    assert.deepEqual(browser.pageErrors, []);
    assert.ok(screens.length >= 8, `axe-core ran on ${screens.join(", ")}`);
  });
});
