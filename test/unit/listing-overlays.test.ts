import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SceneEntity } from "../../src/db/entities/index.js";
import {
  clipCues,
  outroSecondsOf,
  shownDisclosure,
  videoSecondsOf,
} from "../../src/jobs/listing-overlays.js";
import { normaliseOptions } from "../../src/services/video-pipeline.service.js";

const campaign = { musicMood: null, timeZone: null, price: null };
const scene = (index: number, overlays: SceneEntity["overlays"]) => ({ index, overlays }) as SceneEntity;

describe("listing overlays in the pipeline", () => {
  it("makes a default job 31 s (7 × 4 s and the 3 s outro) and an old plain job 28 s", () => {
    const options = normaliseOptions({ campaignId: "c" }, campaign);
    assert.equal(options.overlays, true);
    assert.equal(outroSecondsOf(options), 3);
    assert.equal(videoSecondsOf(options), 31);
    const plain = { ...options, overlays: undefined };
    assert.equal(outroSecondsOf(plain), 0);
    assert.equal(videoSecondsOf(plain), 28);
  });

  it("puts each scene's overlays on the video's timeline for the captions track", () => {
    const scenes = [
      scene(0, [{ kind: "title", start: 0, end: 3, lines: ["Just listed", "1 Main St"] }]),
      scene(1, [{ kind: "caption", start: 0.4, end: 1.9, lines: ["Kitchen"] }]),
    ];
    assert.deepEqual(clipCues(scenes, 4), [
      { start: 0, end: 3, lines: ["Just listed", "1 Main St"] },
      { start: 4.4, end: 5.9, lines: ["Kitchen"] },
    ]);
  });

  it("reports the disclosure the clips showed, or null when none did", () => {
    const plain = [scene(0, [{ kind: "title", start: 0, end: 3, lines: ["x"] }])];
    assert.equal(shownDisclosure(plain), null);
    const generated = [
      ...plain,
      scene(1, [{ kind: "disclosure", start: 0, end: 4, lines: ["AI-animated", "scenes"] }]),
    ];
    assert.equal(shownDisclosure(generated), "AI-animated scenes");
  });
});
