/**
 * The embedded pair selector: picks a first and a last photo for every planned scene from the
 * facts measured at ingest (room type, sharpness, exposure, size, dHash, colour). No network,
 * no randomness: the same campaign always gets the same picks.
 */

import type { AspectRatio, CameraMove, RoomType, SceneType } from "../../domain/vocabulary.js";
import { OUTPUT_SIZE } from "../../domain/vocabulary.js";
import { AppError } from "../../errors.js";
import { hammingDistance } from "../../media/image-metrics.js";
import type { AssetFacts, PairSelector, ScenePick, SelectorInput } from "../types.js";
import {
  planCameraMoves,
  SCENE_FALLBACK_ROOM_TYPES,
  SCENE_ROOM_TYPES,
  SINGLE_PHOTO_MOVES,
  scenePrompt,
} from "./scene-plan.js";

/**
 * AssetFacts plus what image analysis can add; callers that have the histogram pass it along
 * and continuity gets sharper, callers that don't still work from the mean colour.
 */
export type SelectorAsset = AssetFacts & { colourHistogram?: readonly number[] };

/** dHash distance at or below which two photos are the same shot (measured: dups 0–2, others ≥ 19). */
export const NEAR_DUPLICATE_MAX_DISTANCE = 10;

/** Quality differences smaller than this are noise: among duplicates the earlier upload wins. */
const QUALITY_TIE = 0.03;
/** Pairs are searched among this many best candidates per tier (keeps the search O(1)). */
const PAIR_POOL = 8;

export function effectiveRoomType(asset: AssetFacts): RoomType {
  return asset.userRoomType ?? asset.roomTypeGuess;
}

/** Never shown, whatever runs out: a floor plan is not a scene. */
function isEligible(asset: AssetFacts): boolean {
  return effectiveRoomType(asset) !== "FLOOR_PLAN" && !asset.flags.includes("DOCUMENT");
}

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));
const round2 = (value: number): number => Math.round(value * 100) / 100;

export interface AssetScore {
  /** 0..1 weighted sum of the parts; halved when the photo carries a quality flag. */
  quality: number;
  sharpness: number;
  exposure: number;
  resolution: number;
  orientation: number;
  colour: number;
}

/**
 * How good a photo is as a video frame for this aspect ratio, 0..1. Each part saturates once
 * it is "good enough", so two fine photos tie and continuity decides between them.
 */
export function scoreAsset(asset: AssetFacts, aspectRatio: AspectRatio): AssetScore {
  const out = OUTPUT_SIZE[aspectRatio];
  const outAspect = out.width / out.height;
  const photoAspect = asset.width / Math.max(1, asset.height);
  // Log scale: 30 (soft) → 0, 300 (crisp) → 1; SOURCES.md puts real photos at 120–4500.
  const sharpness = clamp01(Math.log(Math.max(1, asset.sharpness) / 30) / Math.log(10));
  const e = asset.exposure;
  const exposure = e < 0.35 ? clamp01((e - 0.1) / 0.25) : e > 0.7 ? clamp01((0.95 - e) / 0.25) : 1;
  // Width left after cropping to the output aspect, against the output width.
  const croppedWidth = Math.min(asset.width, asset.height * outAspect);
  const resolution = clamp01(croppedWidth / out.width);
  // A portrait photo in a 16:9 frame loses two thirds of itself to the crop.
  const orientation = Math.min(photoAspect / outAspect, outAspect / photoAspect);
  const colour = clamp01(asset.colourfulness / 40);
  const weighted = 0.3 * sharpness + 0.25 * exposure + 0.2 * resolution + 0.2 * orientation + 0.05 * colour;
  const quality = asset.flags.length > 0 ? weighted / 2 : weighted;
  return {
    quality: Math.round(quality * 1000) / 1000,
    sharpness: round2(sharpness),
    exposure: round2(exposure),
    resolution: round2(resolution),
    orientation: round2(orientation),
    colour: round2(colour),
  };
}

function isHash(value: string): boolean {
  return /^[0-9a-f]{16}$/i.test(value);
}

/** dHash distance, or null when either photo has no usable hash. */
function dhashDistance(a: AssetFacts, b: AssetFacts): number | null {
  return isHash(a.dhash) && isHash(b.dhash) ? hammingDistance(a.dhash, b.dhash) : null;
}

/** Same shot, whatever the resolution, crop or compression. */
export function isNearDuplicate(a: AssetFacts, b: AssetFacts): boolean {
  const distance = dhashDistance(a, b);
  return distance !== null && distance <= NEAR_DUPLICATE_MAX_DISTANCE;
}

/**
 * How well two photos flow into each other, 0..1: mostly colour (histogram overlap when known,
 * else mean colour), a little layout (a dHash nearer than chance means a similar composition).
 */
export function continuity(a: SelectorAsset, b: SelectorAsset): number {
  let colour = 0.5;
  if (a.colourHistogram && b.colourHistogram && a.colourHistogram.length === b.colourHistogram.length) {
    colour = a.colourHistogram.reduce((sum, value, i) => sum + Math.min(value, b.colourHistogram![i]!), 0);
  } else if (a.meanColour && b.meanColour) {
    const [ar, ag, ab] = a.meanColour;
    const [br, bg, bb] = b.meanColour;
    colour = clamp01(1 - Math.hypot(ar - br, ag - bg, ab - bb) / 150);
  }
  const distance = dhashDistance(a, b);
  // Unrelated photos sit around 32 of 64 bits apart.
  const layout = distance === null ? 0 : clamp01((32 - distance) / 20);
  return round2(0.8 * colour + 0.2 * layout);
}

const byId = (a: AssetFacts, b: AssetFacts): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export interface DedupeResult {
  kept: SelectorAsset[];
  /** Dropped asset id → the id of the copy that was kept. */
  dropped: Map<string, string>;
}

/**
 * Groups near-duplicates (transitively) and keeps one per group: unflagged before flagged,
 * then the best quality; near-equal quality goes to the earlier asset in input order, which is
 * the campaign's photo order, so the original upload usually survives its re-upload.
 */
export function dedupeAssets(assets: readonly SelectorAsset[], aspectRatio: AspectRatio): DedupeResult {
  const parent = assets.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < assets.length; i++) {
    for (let j = i + 1; j < assets.length; j++) {
      if (isNearDuplicate(assets[i]!, assets[j]!)) parent[find(j)] = find(i);
    }
  }
  const groups = new Map<number, number[]>();
  assets.forEach((_, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), i]);
  });
  const keep = new Set<number>();
  const dropped = new Map<string, string>();
  for (const members of groups.values()) {
    const clean = members.filter((i) => assets[i]!.flags.length === 0);
    const pool = clean.length > 0 ? clean : members;
    const quality = (i: number): number => scoreAsset(assets[i]!, aspectRatio).quality;
    const best = Math.max(...pool.map(quality));
    const winner = pool.find((i) => quality(i) >= best - QUALITY_TIE)!;
    keep.add(winner);
    for (const i of members) if (i !== winner) dropped.set(assets[i]!.id, assets[winner]!.id);
  }
  return { kept: assets.filter((_, i) => keep.has(i)), dropped };
}

/** How a scene got its photos, from best to last resort; drives confidence and reasoning. */
type Tier = "ROOM" | "UNLABELLED" | "OTHER_ROOM" | "REUSED" | "FLAGGED";

const TIER_CONFIDENCE: Record<Tier, number> = {
  ROOM: 0.85,
  UNLABELLED: 0.4,
  OTHER_ROOM: 0.3,
  REUSED: 0.25,
  FLAGGED: 0.15,
};

/**
 * How much a room type is a lesser fit for a scene that accepts it: OUTDOOR takes a pool or a
 * view almost equally, an exterior only when neither is there.
 */
function roomPenalty(sceneType: SceneType, roomType: RoomType): number {
  const index = SCENE_ROOM_TYPES[sceneType].indexOf(roomType);
  return index <= 0 ? 0 : index === 1 ? 0.1 : 0.35;
}

interface Candidate {
  asset: SelectorAsset;
  quality: number;
  /** Quality minus the penalty for being a lesser fit (EXTERIOR in an OUTDOOR scene, …). */
  rank: number;
}

interface Choice {
  first: Candidate;
  last: Candidate;
  tier: Tier;
}

function rankCandidates(candidates: Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => b.rank - a.rank || byId(a.asset, b.asset));
}

/**
 * Best pair among the top candidates of one tier: both good, flowing into each other, and never
 * the same shot twice. One candidate (or only duplicates) means a single-photo scene.
 */
function choosePair(candidates: Candidate[], tier: Tier): Choice | null {
  const pool = rankCandidates(candidates).slice(0, PAIR_POOL);
  if (pool.length === 0) return null;
  let best: { score: number; first: Candidate; last: Candidate } | null = null;
  for (let i = 0; i < pool.length; i++) {
    for (let j = i + 1; j < pool.length; j++) {
      const a = pool[i]!;
      const b = pool[j]!;
      if (isNearDuplicate(a.asset, b.asset)) continue;
      const roomA = effectiveRoomType(a.asset);
      const sameRoom = roomA === effectiveRoomType(b.asset) && roomA !== "UNKNOWN" && roomA !== "OTHER";
      // A fallback pair from one room morphs better than one from two different rooms.
      const score = a.rank + b.rank + 0.4 * continuity(a.asset, b.asset) + (sameRoom ? 0.15 : 0);
      if (!best || score > best.score + 1e-9) best = { score, first: a, last: b };
    }
  }
  if (!best) return { first: pool[0]!, last: pool[0]!, tier };
  return { first: best.first, last: best.last, tier };
}

const ROOM_LABEL: Record<RoomType, string> = {
  EXTERIOR: "exterior",
  LIVING: "living-room",
  KITCHEN: "kitchen",
  DINING: "dining",
  BEDROOM: "bedroom",
  BATH: "bathroom",
  POOL: "pool/garden",
  VIEW: "view",
  FLOOR_PLAN: "floor-plan",
  OTHER: "other-room",
  UNKNOWN: "unlabelled",
};

const SCENE_LABEL: Record<SceneType, string> = {
  EXTERIOR: "exterior",
  LIVING: "living-room",
  KITCHEN: "kitchen",
  DINING: "dining",
  BEDROOM: "bedroom",
  BATH: "bathroom",
  OUTDOOR: "outdoor",
};

function explainPick(choice: Choice, sceneType: SceneType, move: CameraMove): string {
  const { first, last, tier } = choice;
  const a = first.asset.filename;
  const b = last.asset.filename;
  const scene = SCENE_LABEL[sceneType];
  if (first === last) {
    const why =
      tier === "ROOM"
        ? `it is the only usable ${scene} photo`
        : `no other photo is left for the ${scene} scene`;
    return `${a} is both first and last frame because ${why}, so the clip uses a ${move.toLowerCase().replace("_", " ")} that needs no second viewpoint.`;
  }
  switch (tier) {
    case "ROOM": {
      const roomA = ROOM_LABEL[effectiveRoomType(first.asset)];
      const roomB = ROOM_LABEL[effectiveRoomType(last.asset)];
      const what = roomA === roomB ? `${roomA} photos` : `${roomA} and ${roomB} photos`;
      return `${a} and ${b} are the best-matched ${what} for the ${scene} scene (quality ${first.quality.toFixed(2)} and ${last.quality.toFixed(2)}), close enough in colour for a smooth move.`;
    }
    case "UNLABELLED":
      return `No photo is labelled for the ${scene} scene, so ${a} and ${b} were chosen from unlabelled photos on sharpness, exposure and framing.`;
    case "OTHER_ROOM":
      return `No ${scene} photo is left, so the scene falls back to ${a} (${ROOM_LABEL[effectiveRoomType(first.asset)]}) and ${b} (${ROOM_LABEL[effectiveRoomType(last.asset)]}).`;
    case "REUSED":
      return `Every usable photo is already in another scene, so the ${scene} scene reuses ${a} and ${b}.`;
    case "FLAGGED":
      return `Only photos with quality warnings remain, so the ${scene} scene uses ${a} and ${b} (${[...new Set([...first.asset.flags, ...last.asset.flags])].join(", ").toLowerCase()}).`;
  }
}

function confidenceOf(choice: Choice, sceneType: SceneType): number {
  let confidence = TIER_CONFIDENCE[choice.tier];
  const members = [choice.first.asset, choice.last.asset];
  if (choice.tier === "ROOM") {
    // The user's own labels beat guesses; OUTDOOR filled with EXTERIOR photos is a compromise.
    const userLabelled = members.filter((asset) => asset.userRoomType !== null).length;
    const lesserFit = members.filter(
      (asset) => roomPenalty(sceneType, effectiveRoomType(asset)) > 0.2,
    ).length;
    confidence += 0.05 * userLabelled - 0.15 * lesserFit;
  }
  if (choice.first === choice.last) confidence *= 0.85;
  const quality = (choice.first.quality + choice.last.quality) / 2;
  return round2(clamp01(confidence * (0.6 + 0.4 * quality)));
}

export class HeuristicSelector implements PairSelector {
  readonly name = "heuristic";

  async select(input: SelectorInput): Promise<{ picks: ScenePick[]; note?: string }> {
    if (input.signal?.aborted) throw new AppError("CANCELLED", "Pair selection was cancelled");
    if (input.plan.length === 0) return { picks: [] };

    const eligible: SelectorAsset[] = input.assets.filter(isEligible);
    const { kept, dropped } = dedupeAssets(eligible, input.aspectRatio);
    if (kept.length === 0) {
      throw new AppError(
        "BAD_USER_INPUT",
        "The campaign has no usable photos (only floor plans or documents)",
      );
    }
    const scored = kept.map((asset): Candidate => {
      const { quality } = scoreAsset(asset, input.aspectRatio);
      return { asset, quality, rank: quality };
    });
    const used = new Set<string>();
    const moves = planCameraMoves(input.plan);
    const choices: (Choice | null)[] = input.plan.map(() => null);

    const candidatesFor = (sceneType: SceneType, tier: Tier): Candidate[] => {
      const own = SCENE_ROOM_TYPES[sceneType];
      const near = SCENE_FALLBACK_ROOM_TYPES[sceneType];
      const flagged = (c: Candidate) => c.asset.flags.length > 0;
      const room = (c: Candidate) => effectiveRoomType(c.asset);
      const withRank = (c: Candidate, penalty: number): Candidate => ({ ...c, rank: c.quality - penalty });
      switch (tier) {
        case "ROOM":
          return scored
            .filter((c) => !used.has(c.asset.id) && !flagged(c) && own.includes(room(c)))
            .map((c) => withRank(c, roomPenalty(sceneType, room(c))));
        case "UNLABELLED":
          return scored.filter(
            (c) => !used.has(c.asset.id) && !flagged(c) && (room(c) === "UNKNOWN" || room(c) === "OTHER"),
          );
        case "OTHER_ROOM":
          return scored
            .filter((c) => !used.has(c.asset.id) && !flagged(c))
            .map((c) => withRank(c, near.includes(room(c)) ? 0.05 * near.indexOf(room(c)) : 0.3));
        case "REUSED":
          return scored
            .filter((c) => used.has(c.asset.id) && !flagged(c))
            .map((c) => withRank(c, own.includes(room(c)) ? 0 : 0.3));
        case "FLAGGED":
          return scored.filter(flagged).map((c) => withRank(c, own.includes(room(c)) ? 0 : 0.3));
      }
    };

    const assign = (index: number, choice: Choice | null): void => {
      if (!choice) return;
      choices[index] = choice;
      used.add(choice.first.asset.id);
      used.add(choice.last.asset.id);
    };

    // Pass 1: every scene takes photos of its own room, in plan order (EXTERIOR before OUTDOOR,
    // which only borrows exteriors). Pass 2 fills what is left, so a fallback never takes a
    // photo another scene needed for its own room.
    input.plan.forEach((sceneType, index) => {
      assign(index, choosePair(candidatesFor(sceneType, "ROOM"), "ROOM"));
    });
    const fallbacks: Tier[] = ["UNLABELLED", "OTHER_ROOM", "REUSED", "FLAGGED"];
    input.plan.forEach((sceneType, index) => {
      for (const tier of fallbacks) {
        if (choices[index]) break;
        assign(index, choosePair(candidatesFor(sceneType, tier), tier));
      }
    });

    const picks = input.plan.map((sceneType, index): ScenePick => {
      const choice = choices[index]!;
      let cameraMove = moves[index]!;
      // One photo has no second viewpoint: a truck or orbit would make the model invent one.
      if (choice.first === choice.last && !SINGLE_PHOTO_MOVES.includes(cameraMove)) {
        cameraMove = index === input.plan.length - 1 ? "PULL_OUT" : "PUSH_IN";
      }
      return {
        index,
        sceneType,
        firstAssetId: choice.first.asset.id,
        lastAssetId: choice.last.asset.id,
        cameraMove,
        prompt: scenePrompt(sceneType, input.mood),
        confidence: confidenceOf(choice, sceneType),
        reasoning: explainPick(choice, sceneType, cameraMove),
      };
    });

    const skipped = input.assets.length - eligible.length;
    const notes = [
      dropped.size > 0 ? `${dropped.size} near-duplicate photo(s) left out` : null,
      skipped > 0 ? `${skipped} floor plan/document photo(s) never used` : null,
    ].filter((note): note is string => note !== null);
    return notes.length > 0 ? { picks, note: `${notes.join("; ")}.` } : { picks };
  }
}
