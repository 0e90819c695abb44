import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { AspectRatio, QualityFlag, RoomType, SceneType } from "../../src/domain/vocabulary.js";
import { AppError } from "../../src/errors.js";
import { analyzeImage, type ImageAnalysis } from "../../src/media/image-analysis.js";
import { guessRoomType } from "../../src/media/room-type.js";
import {
  continuity,
  dedupeAssets,
  HeuristicSelector,
  isNearDuplicate,
  type SelectorAsset,
  scoreAsset,
} from "../../src/providers/local/heuristic-selector.js";
import { planScenes, SINGLE_PHOTO_MOVES } from "../../src/providers/local/scene-plan.js";
import type { ScenePick } from "../../src/providers/types.js";
import { fixturePhoto, fixturePhotoNames } from "../helpers/fixtures.js";

// ---------------------------------------------------------------------------------------------
// Synthetic facts

/** A deterministic 64-bit hash per seed; distinct seeds land ~32 bits apart. */
function hashFor(seed: number): string {
  let state = (seed * 2654435761) >>> 0;
  let hex = "";
  for (let i = 0; i < 8; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    hex += (state >>> 24).toString(16).padStart(2, "0");
  }
  return hex;
}

let seedCounter = 1;
function fact(id: string, room: RoomType, overrides: Partial<SelectorAsset> = {}): SelectorAsset {
  return {
    id,
    filename: `${id}.jpg`,
    width: 1920,
    height: 1280,
    userRoomType: null,
    roomTypeGuess: room,
    tags: [],
    sharpness: 800,
    exposure: 0.5,
    colourfulness: 30,
    dhash: hashFor(seedCounter++),
    flags: [],
    meanColour: [128, 120, 110],
    ...overrides,
  };
}

const selector = new HeuristicSelector();
const select = (assets: SelectorAsset[], plan: SceneType[], aspectRatio: AspectRatio = "LANDSCAPE_16_9") =>
  selector.select({ assets, plan, aspectRatio, mood: "MODERN" });

const idsOf = (pick: ScenePick) => [pick.firstAssetId, pick.lastAssetId];

/** Asset ids used by more than one scene (first = last inside one scene is not reuse). */
function reusedAcrossScenes(picks: ScenePick[]): string[] {
  const seen = new Map<string, number>();
  for (const pick of picks) for (const id of new Set(idsOf(pick))) seen.set(id, (seen.get(id) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([id]) => id);
}

describe("scoreAsset", () => {
  it("prefers landscape for 16:9 and portrait for 9:16", () => {
    const landscape = fact("l", "LIVING", { width: 2400, height: 1600 });
    const portrait = fact("p", "LIVING", { width: 1600, height: 2400 });
    assert.ok(
      scoreAsset(landscape, "LANDSCAPE_16_9").quality > scoreAsset(portrait, "LANDSCAPE_16_9").quality,
    );
    assert.ok(scoreAsset(portrait, "PORTRAIT_9_16").quality > scoreAsset(landscape, "PORTRAIT_9_16").quality);
  });

  it("rewards sharpness, good exposure and resolution up to what the frame needs", () => {
    const base = fact("b", "LIVING");
    const q = (overrides: Partial<SelectorAsset>) =>
      scoreAsset({ ...base, ...overrides }, "LANDSCAPE_16_9").quality;
    assert.ok(q({ sharpness: 60 }) < q({ sharpness: 600 }));
    assert.equal(q({ sharpness: 600 }), q({ sharpness: 6000 }));
    assert.ok(q({ exposure: 0.15 }) < q({ exposure: 0.5 }));
    assert.ok(q({ exposure: 0.92 }) < q({ exposure: 0.5 }));
    assert.ok(q({ width: 800, height: 533 }) < q({ width: 1920, height: 1280 }));
    assert.equal(q({ width: 3840, height: 2560 }), q({ width: 1920, height: 1280 }));
  });

  it("halves the score of a flagged photo", () => {
    const clean = scoreAsset(fact("c", "LIVING"), "LANDSCAPE_16_9").quality;
    const flagged = scoreAsset(fact("f", "LIVING", { flags: ["LOW_RESOLUTION"] }), "LANDSCAPE_16_9").quality;
    assert.ok(Math.abs(flagged - clean / 2) < 0.001);
  });
});

describe("duplicates and continuity", () => {
  it("calls photos within 10 dHash bits the same shot", () => {
    const a = fact("a", "LIVING", { dhash: "0000000000000000" });
    assert.ok(isNearDuplicate(a, fact("b", "LIVING", { dhash: "00000000000003ff" })));
    assert.ok(!isNearDuplicate(a, fact("c", "LIVING", { dhash: "00000000000007ff" })));
    assert.ok(!isNearDuplicate(a, fact("d", "LIVING", { dhash: "" })));
  });

  it("keeps one per duplicate group: unflagged first, then quality, then input order", () => {
    const original = fact("orig", "LIVING", { dhash: "00000000000000ff" });
    const smaller = fact("copy-small", "LIVING", { dhash: "00000000000000fe", width: 800, height: 533 });
    const blurred = fact("copy-blurred", "LIVING", { dhash: "00000000000000ff", flags: ["BLURRY"] });
    const other = fact("other", "KITCHEN");
    const { kept, dropped } = dedupeAssets([blurred, smaller, original, other], "LANDSCAPE_16_9");
    assert.deepEqual(kept.map((a) => a.id).sort(), ["orig", "other"]);
    assert.equal(dropped.get("copy-small"), "orig");
    assert.equal(dropped.get("copy-blurred"), "orig");
    // Equal quality: the earlier one (the first upload) survives, whichever it is.
    const twinA = fact("twin-a", "LIVING", { dhash: "ff00000000000000" });
    const twinB = fact("twin-b", "LIVING", { dhash: "ff00000000000000" });
    assert.deepEqual(
      dedupeAssets([twinB, twinA], "LANDSCAPE_16_9").kept.map((a) => a.id),
      ["twin-b"],
    );
  });

  it("scores similar colours as more continuous", () => {
    const warm = fact("w", "LIVING", { meanColour: [200, 150, 100] });
    const warm2 = fact("w2", "LIVING", { meanColour: [190, 145, 105] });
    const cold = fact("c", "LIVING", { meanColour: [60, 90, 200] });
    assert.ok(continuity(warm, warm2) > continuity(warm, cold));
    const histogramA = [0.5, 0.5, 0, 0];
    const histogramB = [0, 0, 0.5, 0.5];
    assert.ok(
      continuity({ ...warm, colourHistogram: histogramA }, { ...warm2, colourHistogram: histogramB }) <
        continuity(warm, warm2),
    );
  });
});

describe("HeuristicSelector on synthetic campaigns", () => {
  it("is named heuristic and returns nothing for an empty plan", async () => {
    assert.equal(selector.name, "heuristic");
    assert.deepEqual(await select([fact("a", "LIVING")], []), { picks: [] });
  });

  it("lets the user's room type win over the guess", async () => {
    const assets = [
      fact("k1", "KITCHEN", { userRoomType: "BEDROOM" }),
      fact("k2", "KITCHEN", { userRoomType: "BEDROOM" }),
      fact("k3", "KITCHEN"),
      fact("k4", "KITCHEN"),
    ];
    const { picks } = await select(assets, ["BEDROOM", "KITCHEN"]);
    assert.deepEqual(idsOf(picks[0]!).sort(), ["k1", "k2"]);
    assert.deepEqual(idsOf(picks[1]!).sort(), ["k3", "k4"]);
    assert.ok(picks[0]!.confidence > picks[1]!.confidence);
  });

  it("falls back to unlabelled photos, then other rooms, never to a floor plan", async () => {
    const assets = [
      fact("plan", "FLOOR_PLAN", { sharpness: 5000 }),
      fact("doc", "UNKNOWN", { flags: ["DOCUMENT"] }),
      fact("u1", "UNKNOWN"),
      fact("u2", "UNKNOWN"),
      fact("b1", "BEDROOM"),
      fact("b2", "BEDROOM"),
      fact("l1", "LIVING"),
      fact("l2", "LIVING"),
    ];
    const { picks, note } = await select(assets, ["LIVING", "BATH", "KITCHEN"]);
    assert.deepEqual(idsOf(picks[0]!).sort(), ["l1", "l2"]);
    assert.deepEqual(idsOf(picks[1]!).sort(), ["u1", "u2"]);
    assert.deepEqual(idsOf(picks[2]!).sort(), ["b1", "b2"]);
    assert.ok(picks[1]!.confidence < picks[0]!.confidence);
    assert.ok(picks[2]!.confidence < picks[1]!.confidence);
    assert.match(picks[2]!.reasoning, /falls back/);
    assert.match(note ?? "", /2 floor plan\/document/);
    await assert.rejects(select([assets[0]!, assets[1]!], ["LIVING"]), (error: unknown) => {
      return error instanceof AppError && error.code === "BAD_USER_INPUT";
    });
  });

  it("uses one photo as first and last frame when it alone fits, with a single-view move", async () => {
    const assets = [fact("bath", "BATH"), fact("l1", "LIVING"), fact("l2", "LIVING"), fact("l3", "LIVING")];
    const { picks } = await select(assets, ["LIVING", "BATH"]);
    const bath = picks[1]!;
    assert.deepEqual(idsOf(bath), ["bath", "bath"]);
    assert.ok(SINGLE_PHOTO_MOVES.includes(bath.cameraMove));
    assert.match(bath.reasoning, /only usable bathroom photo/);
  });

  it("never picks a flagged photo while an unflagged one is left, even of another room", async () => {
    const flags: QualityFlag[][] = [["BLURRY"], ["DARK"], ["OVEREXPOSED"], ["LOW_RESOLUTION"], ["DUPLICATE"]];
    const assets = [
      ...flags.map((f, i) => fact(`bad-kitchen-${i}`, "KITCHEN", { flags: f, sharpness: 9000 })),
      fact("dining-1", "DINING"),
      fact("dining-2", "DINING"),
    ];
    const { picks } = await select(assets, ["KITCHEN"]);
    assert.deepEqual(idsOf(picks[0]!).sort(), ["dining-1", "dining-2"]);
  });

  it("reuses the best photos when the campaign runs out, and only then flagged ones", async () => {
    const assets = [
      fact("e1", "EXTERIOR"),
      fact("e2", "EXTERIOR"),
      fact("blurry", "LIVING", { flags: ["BLURRY"] }),
    ];
    const { picks } = await select(assets, planScenes(3));
    assert.deepEqual(idsOf(picks[0]!).sort(), ["e1", "e2"]);
    // LIVING: nothing unused and unflagged is left; reuse beats a blurry photo.
    assert.ok(idsOf(picks[1]!).every((id) => id === "e1" || id === "e2"));
    assert.match(picks[1]!.reasoning, /reuses/);
    const onlyFlagged = await select([fact("dark", "LIVING", { flags: ["DARK"] })], ["LIVING"]);
    assert.deepEqual(idsOf(onlyFlagged.picks[0]!), ["dark", "dark"]);
  });

  it("fills OUTDOOR with pool or view before exterior photos", async () => {
    const assets = [
      fact("e1", "EXTERIOR", { sharpness: 9000 }),
      fact("e2", "EXTERIOR", { sharpness: 9000 }),
      fact("e3", "EXTERIOR", { sharpness: 9000 }),
      fact("pool", "POOL", { sharpness: 200 }),
      fact("view", "VIEW", { sharpness: 200 }),
    ];
    const { picks } = await select(assets, ["EXTERIOR", "OUTDOOR"]);
    assert.deepEqual(idsOf(picks[1]!).sort(), ["pool", "view"]);
  });

  it("is deterministic and independent of input order", async () => {
    const assets = [
      ...["a", "b", "c", "d"].map((id) => fact(`living-${id}`, "LIVING")),
      ...["a", "b", "c"].map((id) => fact(`kitchen-${id}`, "KITCHEN", { exposure: 0.4 })),
      fact("pool", "POOL"),
      fact("unknown", "UNKNOWN"),
    ];
    const plan = planScenes(5);
    const first = await select(assets, plan);
    assert.deepEqual(await select(assets, plan), first);
    assert.deepEqual(await select([...assets].reverse(), plan), first);
  });

  it("stops when cancelled", async () => {
    await assert.rejects(
      selector.select({
        assets: [fact("a", "LIVING")],
        plan: ["LIVING"],
        aspectRatio: "LANDSCAPE_16_9",
        mood: "CALM",
        signal: AbortSignal.abort(),
      }),
      (error: unknown) => error instanceof AppError && error.code === "CANCELLED",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The fixture photos, analysed once for this file.

const names = fixturePhotoNames();
const analyses = new Map<string, ImageAnalysis>();
for (const name of names) {
  analyses.set(name, await analyzeImage(readFileSync(fixturePhoto(name)), { maxPixels: 50_000_000 }));
}

function factsFor(name: string, id: string, filename: string, withHistogram: boolean): SelectorAsset {
  const a = analyses.get(name)!;
  return {
    id,
    filename,
    width: a.width,
    height: a.height,
    userRoomType: null,
    roomTypeGuess: guessRoomType({ filename, tags: [] }).roomType,
    tags: [],
    sharpness: a.sharpness,
    exposure: a.exposure,
    colourfulness: a.colourfulness,
    dhash: a.dhash,
    flags: a.flags,
    meanColour: a.meanColour,
    ...(withHistogram ? { colourHistogram: a.colourHistogram } : {}),
  };
}

/** Deterministic shuffle (mulberry32), so "IMG_0001" is not always the first fixture. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const SCENE_PREFIXES: Record<SceneType, string[]> = {
  EXTERIOR: ["exterior"],
  LIVING: ["living"],
  KITCHEN: ["kitchen"],
  DINING: ["dining"],
  BEDROOM: ["bedroom"],
  BATH: ["bath"],
  OUTDOOR: ["pool", "view"],
};

describe("HeuristicSelector on the fixture photos, real names", () => {
  for (const aspectRatio of ["LANDSCAPE_16_9", "PORTRAIT_9_16"] as const) {
    for (const withHistogram of [true, false]) {
      it(`7 scenes, ${aspectRatio}${withHistogram ? "" : ", mean colour only"}: right rooms, no rejects, no reuse`, async () => {
        const assets = names.map((name) => factsFor(name, name, name, withHistogram));
        const { picks, note } = await select(assets, planScenes(7), aspectRatio);
        assert.equal(picks.length, 7);
        for (const pick of picks) {
          for (const id of idsOf(pick)) {
            assert.ok(!id.startsWith("reject-"), `${pick.sceneType} picked ${id}`);
            assert.ok(
              SCENE_PREFIXES[pick.sceneType].includes(id.split("-")[0]!),
              `${pick.sceneType} picked ${id}`,
            );
          }
          assert.ok(pick.confidence > 0 && pick.confidence <= 1);
          assert.match(pick.reasoning, /^[^\n]+\.$/);
          assert.ok(pick.prompt.length > 0);
        }
        assert.deepEqual(reusedAcrossScenes(picks), []);
        // The only bathroom photo carries the BATH scene alone, with a move one view can do.
        const bath = picks.find((pick) => pick.sceneType === "BATH")!;
        assert.deepEqual(idsOf(bath), ["bath-01.jpg", "bath-01.jpg"]);
        assert.ok(SINGLE_PHOTO_MOVES.includes(bath.cameraMove));
        assert.ok(bath.confidence < Math.min(...picks.filter((p) => p !== bath).map((p) => p.confidence)));
        assert.equal(picks.at(-1)!.cameraMove, "PULL_OUT");
        assert.match(note ?? "", /near-duplicate/);
      });
    }
  }

  it("12 scenes still use each photo once and no reject", async () => {
    const assets = names.map((name) => factsFor(name, name, name, true));
    const { picks } = await select(assets, planScenes(12));
    assert.deepEqual(reusedAcrossScenes(picks), []);
    for (const pick of picks) for (const id of idsOf(pick)) assert.ok(!id.startsWith("reject-"), id);
  });
});

describe("HeuristicSelector on the fixture photos, camera names (IMG_0001.jpg…)", () => {
  const BAD = [
    "reject-blurry-01.jpg",
    "reject-blurry-02.jpg",
    "reject-dark-01.jpg",
    "reject-floorplan-01.jpg",
  ];
  const DUPLICATE_PAIRS = [
    ["dining-03.jpg", "reject-dup-of-dining-03.jpg"],
    ["living-01.jpg", "reject-dup-of-living-01.jpg"],
  ];

  /** Names hidden behind camera file names and opaque ids, in a seeded order. */
  function anonymised(seed: number) {
    const order = shuffled(names, seed);
    const realName = new Map<string, string>();
    const assets = order.map((name, i) => {
      const id = `asset-${(i * 7919 + seed) % 100_003}`;
      realName.set(id, name);
      return factsFor(name, id, `IMG_${String(i + 1).padStart(4, "0")}.jpg`, true);
    });
    return { assets, realName };
  }

  for (const seed of [1, 42, 2024]) {
    it(`never picks blurry, dark, floor-plan or both copies of a duplicate (shuffle seed ${seed})`, async () => {
      const { assets, realName } = anonymised(seed);
      assert.ok(assets.every((asset) => asset.roomTypeGuess === "UNKNOWN"));
      const { picks } = await select(assets, planScenes(7));
      const chosen = new Set(picks.flatMap(idsOf).map((id) => realName.get(id)!));
      assert.equal(chosen.size, 14, "14 distinct photos for 7 scenes");
      for (const bad of BAD) assert.ok(!chosen.has(bad), `picked ${bad}`);
      for (const [a, b] of DUPLICATE_PAIRS)
        assert.ok(!(chosen.has(a!) && chosen.has(b!)), `picked both ${a} and ${b}`);
      assert.deepEqual(reusedAcrossScenes(picks), []);
      for (const pick of picks) assert.match(pick.reasoning, /unlabelled/);
    });
  }

  it("gives the same picks for the same input", async () => {
    const { assets } = anonymised(7);
    const plan = planScenes(7);
    assert.deepEqual(await select(assets, plan), await select(assets, plan));
  });
});
