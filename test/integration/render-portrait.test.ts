/**
 * A 9:16 render read back with OCR: every word of the overlays that tesseract finds lies inside
 * the safe zone (clear of the top 14 %, the bottom 35 % and 6 % at the sides), the 60-character
 * address and the 9-digit price appear whole. Short scenes keep it quick: 2 × 2 s + a 2 s outro.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { runFfmpeg } from "../../src/media/ffmpeg.runner.js";
import { concatCopyArgs } from "../../src/media/ffmpeg-commands.js";
import { planComposition } from "../../src/render/composition-plan.js";
import { renderCuts } from "../../src/render/cut-renderer.js";
import type { OverlaySpec } from "../../src/render/overlay-spec.js";
import { FRAME_SIZE, SAFE_MARGINS } from "../../src/render/render-formats.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import {
  type OcrWord,
  ocrContains,
  readFrame,
  stillClips,
  tempDirForFile,
  testFfmpegBinaries,
} from "../helpers/render-checks.js";

const bins = testFfmpegBinaries();

const ADDRESS = "12345 Pacific Coast Highway Unit 4B, Malibu, California 9026";
const SPEC: OverlaySpec = {
  format: "PORTRAIT_9_16",
  template: "JUST_LISTED",
  locale: "en-US",
  timeZone: "America/Los_Angeles",
  listing: {
    address: ADDRESS,
    price: "123456789",
    currency: "USD",
    bedrooms: 6,
    bathrooms: "5.5",
    areaSqft: 7400,
    listingUrl: "https://homes.example.com/l/12345-pch",
  },
  agent: {
    name: "Jordan Avery",
    phone: "(310) 555-0142",
    email: "jordan@seaside.example",
    brokerage: "Seaside Realty",
    licenseNumber: "01234567",
  },
};

/** The words the overlays should show, from the inputs (not from the layout code). */
const EXPECTED = [
  ADDRESS,
  "$123,456,789",
  "Just listed",
  "6 beds 5.5 baths 7,400 sq ft",
  "Virtually enhanced AI-generated motion",
  "Primary bedroom",
  "Jordan Avery (310) 555-0142 jordan@seaside.example Seaside Realty 01234567",
  "Book a private showing Scan for details",
];
const normalise = (word: string) => word.toLowerCase().replace(/[^\p{L}\p{N}$]/gu, "");
const TOKENS = new Set(
  EXPECTED.flatMap((text) => text.split(/[\s,·]+/))
    .map(normalise)
    .filter((token) => token.length >= 3),
);

const frames: Array<{ label: string; words: OcrWord[]; text: string }> = [];
tempDirForFile("propvid-render-portrait-test", render);

async function render(workDir: string): Promise<void> {
  const { width, height } = FRAME_SIZE.PORTRAIT_9_16;
  const clips = await stillClips(
    bins.ffmpeg,
    workDir,
    ["exterior-02.jpg", "bedroom-02.jpg"].map(fixturePhoto),
    {
      width,
      height,
      seconds: 2,
    },
  );
  const plan = planComposition(
    [
      { index: 0, clipFile: clips[0]!, seconds: 2, sceneType: "EXTERIOR", aiGenerated: true },
      { index: 1, clipFile: clips[1]!, seconds: 2, sceneType: "BEDROOM", aiGenerated: false },
    ],
    { brandedOutro: true, titleSeconds: 2, outroSeconds: 2 },
  );
  const rendered = await renderCuts(plan, SPEC, {
    ffmpeg: bins.ffmpeg,
    workDir,
    outroPhoto: fixturePhoto("view-01.jpg"),
  });
  for (const cut of ["branded", "unbranded"] as const) {
    const video = path.join(workDir, `${cut}.mp4`);
    await runFfmpeg(bins.ffmpeg, concatCopyArgs(rendered.cuts[cut].listFile, video), { timeoutMs: 60_000 });
    const moments = cut === "branded" ? { title: 1.0, caption: 3.0, outro: 5.0 } : { outro: 5.0 };
    for (const [label, at] of Object.entries(moments)) {
      frames.push({ label: `${cut} ${label}`, ...(await readFrame(bins.ffmpeg, video, at, workDir)) });
    }
  }
}

describe("9:16 overlays read back by OCR", () => {
  it("show the 60-character address and the 9-digit price whole", () => {
    const title = frames.find((frame) => frame.label === "branded title")!;
    for (const part of ["12345", "Pacific Coast Highway", "Malibu", "California 9026", "$123,456,789"]) {
      assert.ok(ocrContains(title.text, part), `${part} in: ${title.text}`);
    }
    assert.ok(ocrContains(frames.find((frame) => frame.label === "branded outro")!.text, "Jordan Avery"));
  });

  it("put every overlay word inside the safe zone", () => {
    const { width, height } = FRAME_SIZE.PORTRAIT_9_16;
    const margins = SAFE_MARGINS.PORTRAIT_9_16;
    const zone = {
      left: width * margins.side,
      right: width * (1 - margins.side),
      top: height * margins.top,
      bottom: height * (1 - margins.bottom),
    };
    let checked = 0;
    for (const frame of frames) {
      for (const word of frame.words) {
        if (word.confidence < 50 || !TOKENS.has(normalise(word.text))) continue;
        checked += 1;
        const box = `${frame.label}: "${word.text}" at ${word.left},${word.top} ${word.width}×${word.height}`;
        assert.ok(word.left >= zone.left && word.left + word.width <= zone.right, box);
        assert.ok(word.top >= zone.top && word.top + word.height <= zone.bottom, box);
      }
    }
    assert.ok(checked >= 20, `only ${checked} overlay words were read`);
  });
});
