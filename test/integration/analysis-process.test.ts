/**
 * The image analysis process (src/media/analysis-process.ts): a photo decoded in it gives the
 * facts an in-process decode gives; a decoder that crashes, hangs or is killed ends one photo
 * (MEDIA_REJECTED, DECODER_FAILED), never the caller, and the next photo gets a new process; the
 * process ends with `close()` and with its parent.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { AppError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { AnalysisProcess } from "../../src/media/analysis-process.js";
import { analyzeImage } from "../../src/media/image-analysis.js";
import { until } from "../helpers/deadline.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { isRunning, mapsFile } from "../helpers/procfs.js";

const MAX_PIXELS = 50_000_000;

/** Waits for `check` to hold, looking every 5 ms (a decode to catch lasts ~0.2–0.5 s). */
const waitFor = (what: string, check: () => boolean, timeoutMs = 10_000) =>
  until(what, () => (check() ? true : undefined), timeoutMs, 5);

/** The code and details of what `promise` rejects with (it must reject with an AppError). */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  const error = await promise.then(
    () => assert.fail("expected a refusal"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AppError, String(error));
  return { code: error.code, details: error.details };
}

describe("the image analysis process", () => {
  let dir: string;
  /** 24 MP of noise at quality 95: long enough to decode (~0.2–0.5 s) to be caught mid-way. */
  let large: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-analysis-process-"));
    large = path.join(dir, "large.jpg");
    await sharp({
      create: {
        width: 6000,
        height: 4000,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 50 },
      },
    })
      .jpeg({ quality: 95 })
      .toFile(large);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("answers, for each photo, what a decode in this process answers (thumbnail bytes included)", async () => {
    const analyser = new AnalysisProcess({ logger: silentLogger });
    try {
      for (const name of [
        "exterior-01.jpg",
        "bath-01.jpg",
        "reject-blurry-01.jpg",
        "reject-floorplan-01.jpg",
      ]) {
        const file = fixturePhoto(name);
        const there = await analyser.analyse(file, { maxPixels: MAX_PIXELS });
        const here = await analyzeImage(file, { maxPixels: MAX_PIXELS });
        assert.ok(Buffer.isBuffer(there.thumbnail), "the thumbnail comes back as a Buffer");
        assert.deepEqual(there, here, name);
      }
      const pid = await analyser.pid();
      assert.ok(pid && pid !== process.pid && isRunning(pid), "decoded in a process of its own");
    } finally {
      await analyser.close();
    }
  });

  it("refuses what this process refuses, with the same codes and reasons", async () => {
    const analyser = new AnalysisProcess({ logger: silentLogger });
    try {
      const text = path.join(dir, "notes.txt");
      writeFileSync(text, "not a photo at all, just words\n".repeat(10));
      const truncated = path.join(dir, "truncated.jpg");
      const whole = await sharp(fixturePhoto("kitchen-01.jpg")).jpeg().toBuffer();
      writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
      const cases: [string, number][] = [
        [text, MAX_PIXELS],
        [truncated, MAX_PIXELS],
        [fixturePhoto("living-01.jpg"), 1_000],
      ];
      const codes = [];
      for (const [file, maxPixels] of cases) {
        const there = await refusal(analyser.analyse(file, { maxPixels }));
        const here = await refusal(analyzeImage(file, { maxPixels }));
        assert.deepEqual(there, here, file);
        codes.push(there.code);
      }
      assert.deepEqual(codes, ["UNSUPPORTED_MEDIA_TYPE", "MEDIA_REJECTED", "MEDIA_REJECTED"]);
      // What is no refusal of the photo (its file gone) stays an internal error, as here.
      const gone = path.join(dir, "gone.jpg");
      const failures = await Promise.all(
        [
          analyser.analyse(gone, { maxPixels: MAX_PIXELS }),
          analyzeImage(gone, { maxPixels: MAX_PIXELS }),
        ].map((attempt) =>
          attempt.then(
            () => assert.fail("expected a failure"),
            (error: unknown) => error as Error,
          ),
        ),
      );
      for (const failure of failures) {
        assert.equal(failure instanceof AppError, false, String(failure));
        assert.match(failure.message, /ENOENT/);
      }
      // Refusals are answers, not crashes: the same process is still there.
      const pid = await analyser.pid();
      assert.ok(pid && isRunning(pid));
    } finally {
      await analyser.close();
    }
  });

  it("fails only the photo being decoded when its process is killed, and starts a new one for the next", async () => {
    const analyser = new AnalysisProcess({ logger: silentLogger });
    try {
      await analyser.analyse(fixturePhoto("living-02.jpg"), { maxPixels: MAX_PIXELS });
      const first = (await analyser.pid())!;
      // Killed while it has the photo mapped, i.e. decoding it.
      const copy = path.join(dir, "decoding.jpg");
      copyFileSync(large, copy);
      const decoding = analyser.analyse(copy, { maxPixels: MAX_PIXELS });
      await waitFor("the decode to start", () => mapsFile(first, copy));
      process.kill(first, "SIGKILL");
      assert.deepEqual(await refusal(decoding), {
        code: "MEDIA_REJECTED",
        details: { reason: "DECODER_FAILED" },
      });
      const next = await analyser.analyse(fixturePhoto("living-02.jpg"), { maxPixels: MAX_PIXELS });
      assert.ok(next.width > 0);
      const second = (await analyser.pid())!;
      assert.notEqual(second, first);

      // Killed while idle: noticed, and the next photo starts a new process too.
      process.kill(second, "SIGKILL");
      await waitFor("the idle process to end", () => !isRunning(second));
      const after = await analyser.analyse(fixturePhoto("pool-01.jpg"), { maxPixels: MAX_PIXELS });
      assert.ok(after.width > 0);
      assert.ok(![first, second].includes((await analyser.pid())!));
    } finally {
      await analyser.close();
    }
  });

  it("kills a decode that outlasts its time, rejecting that photo, and decodes the next in a new process", async () => {
    const options = { logger: silentLogger, timeoutMs: 30 };
    const analyser = new AnalysisProcess(options);
    try {
      const timedOut = analyser.analyse(large, { maxPixels: MAX_PIXELS });
      const first = (await analyser.pid())!;
      assert.deepEqual(await refusal(timedOut), {
        code: "MEDIA_REJECTED",
        details: { reason: "DECODER_FAILED" },
      });
      await waitFor("the timed-out process to end", () => !isRunning(first));
      options.timeoutMs = 60_000;
      const next = await analyser.analyse(large, { maxPixels: MAX_PIXELS });
      assert.equal(next.width, 6000);
      assert.notEqual(await analyser.pid(), first);
    } finally {
      await analyser.close();
    }
  });

  it("ends with close(), and refuses photos afterwards as a stopping service", async () => {
    const analyser = new AnalysisProcess({ logger: silentLogger });
    await analyser.analyse(fixturePhoto("dining-01.jpg"), { maxPixels: MAX_PIXELS });
    const pid = (await analyser.pid())!;
    await analyser.close();
    assert.equal(isRunning(pid), false);
    const refused = await refusal(analyser.analyse(fixturePhoto("dining-01.jpg"), { maxPixels: MAX_PIXELS }));
    assert.equal(refused.code, "SERVICE_UNAVAILABLE");
  });

  it("ends when the process that started it is killed", async () => {
    // A parent of its own, killed with SIGKILL: no stop of ours runs, only the closed channel tells.
    const module = fileURLToPath(new URL("../../src/media/analysis-process.js", import.meta.url));
    const script = `
      const { AnalysisProcess } = await import(${JSON.stringify(module)});
      const analyser = new AnalysisProcess({ logger: { warn() {} } });
      await analyser.analyse(${JSON.stringify(fixturePhoto("view-02.jpg"))}, { maxPixels: ${MAX_PIXELS} });
      process.stdout.write(String(await analyser.pid()) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const entry = path.join(dir, "parent.mjs");
    writeFileSync(entry, script);
    const parent = spawn(process.execPath, [entry], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    parent.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    await waitFor("the child's pid", () => output.includes("\n"), 20_000);
    const child = Number(output.trim());
    assert.ok(isRunning(child));
    parent.kill("SIGKILL");
    await waitFor("the analysis process to end with its parent", () => !isRunning(child), 10_000);
  });
});
