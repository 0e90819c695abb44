/**
 * libvips's operation cache stays off in a process with media threads: a photo's decode leaves
 * no mapping of its file behind (the cache held the last decodes' mappings, deleted temp files
 * included, once a media thread had loaded sharp and switched the process-wide cache back on).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { analyzeImage } from "../../src/media/image-analysis.js";
import sharp from "../../src/media/sharp.js";
import { createMediaWorkerPool, type MediaWorkerPool } from "../../src/workers/media-tasks.js";
import { FIXTURE_PHOTOS_DIR, PROJECT_ROOT } from "../helpers/fixtures.js";

/** The mappings of this process whose path is under `dir`. */
function mappingsUnder(dir: string): string[] {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((line) => line.includes(dir));
}

describe("libvips's operation cache with media threads", () => {
  let workers: MediaWorkerPool;
  let dir: string;

  before(() => {
    workers = createMediaWorkerPool({ size: 2 });
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-sharp-cache-"));
  });
  after(async () => {
    await workers.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps no decoded photo's file mapped once its analysis is done", async () => {
    const photos = ["exterior-01.jpg", "living-01.jpg", "kitchen-01.jpg", "bath-01.jpg"];
    for (const [i, name] of photos.entries()) {
      const file = path.join(dir, `photo-${i}`);
      copyFileSync(path.join(FIXTURE_PHOTOS_DIR, name), file);
      // The metrics run in a media thread: the pool's threads load sharp while this one decodes.
      const analysis = await analyzeImage(file, { maxPixels: 100_000_000, workers });
      assert.ok(analysis.width > 0);
      rmSync(file);
    }
    assert.deepEqual(mappingsUnder(dir), []);
    assert.deepEqual(sharp.cache(), {
      memory: { current: 0, high: sharp.cache().memory.high, max: 0 },
      files: { current: 0, max: 0 },
      items: { current: 0, max: 0 },
    });
  });

  it("is imported only through src/media/sharp.ts, which switches the cache off in every thread", () => {
    const src = path.join(PROJECT_ROOT, "src");
    const direct = readdirSync(src, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith(".ts") && file !== path.join("media", "sharp.ts"))
      .filter((file) => /from "sharp"/.test(readFileSync(path.join(src, file), "utf8")));
    assert.deepEqual(direct, []);
  });
});
