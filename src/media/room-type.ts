/**
 * Room-type guess from the words a listing gives us: tags, then alt text, then the file name.
 * A cheap prior for the pair selector; the user's own choice always overrides it.
 */
import type { RoomType } from "../domain/vocabulary.js";

export interface RoomTypeHints {
  filename: string;
  tags: string[];
  altText?: string | null;
}

export type RoomTypeSource = "tags" | "alt" | "filename" | "none";

export interface RoomTypeGuess {
  roomType: RoomType;
  source: RoomTypeSource;
  /** 0..1: how much the selector may trust the guess. */
  confidence: number;
}

/** Matched room type and how decisive the word is (2 = names the room, 1 = hints at it). */
interface WordEntry {
  roomType: RoomType;
  weight: 1 | 2;
}

const entry = (roomType: RoomType, weight: 1 | 2 = 2): WordEntry => ({ roomType, weight });

/**
 * Phrases are matched on whole words, longest first, so "master bathroom" is a bath and
 * "master suite" a bedroom. Weak words ("view", "front", "deck") lose to a room named outright:
 * "living room with ocean view" is a living room.
 */
const WORDS: ReadonlyMap<string, WordEntry> = new Map([
  // Bedrooms
  ["bedroom", entry("BEDROOM")],
  ["bedrooms", entry("BEDROOM")],
  ["bed", entry("BEDROOM", 1)],
  ["master suite", entry("BEDROOM")],
  ["master bedroom", entry("BEDROOM")],
  ["guest room", entry("BEDROOM")],
  ["nursery", entry("BEDROOM")],
  ["kids room", entry("BEDROOM")],
  ["sleeping", entry("BEDROOM", 1)],
  // Bathrooms
  ["bathroom", entry("BATH")],
  ["bathrooms", entry("BATH")],
  ["bath", entry("BATH")],
  ["shower", entry("BATH")],
  ["ensuite", entry("BATH")],
  ["en suite", entry("BATH")],
  ["powder room", entry("BATH")],
  ["restroom", entry("BATH")],
  ["toilet", entry("BATH")],
  ["wc", entry("BATH")],
  ["vanity", entry("BATH", 1)],
  ["bathtub", entry("BATH")],
  ["tub", entry("BATH", 1)],
  // Kitchen and dining
  ["kitchen", entry("KITCHEN")],
  ["kitchenette", entry("KITCHEN")],
  ["pantry", entry("KITCHEN", 1)],
  ["dining", entry("DINING")],
  ["dining room", entry("DINING")],
  ["breakfast nook", entry("DINING")],
  ["dinner", entry("DINING", 1)],
  // Living spaces
  ["living", entry("LIVING")],
  ["living room", entry("LIVING")],
  ["livingroom", entry("LIVING")],
  ["lounge", entry("LIVING")],
  ["family room", entry("LIVING")],
  ["sitting room", entry("LIVING")],
  ["great room", entry("LIVING")],
  ["den", entry("LIVING")],
  ["sofa", entry("LIVING", 1)],
  ["fireplace", entry("LIVING", 1)],
  // Pool and outdoor living (RoomType has no separate garden: the OUTDOOR scene takes POOL first)
  ["pool", entry("POOL")],
  ["swimming pool", entry("POOL")],
  ["poolside", entry("POOL")],
  ["patio", entry("POOL")],
  ["garden", entry("POOL")],
  ["backyard", entry("POOL")],
  ["back yard", entry("POOL")],
  ["yard", entry("POOL", 1)],
  ["terrace", entry("POOL")],
  ["deck", entry("POOL", 1)],
  ["hot tub", entry("POOL")],
  ["jacuzzi", entry("POOL")],
  // Views
  ["view", entry("VIEW", 1)],
  ["views", entry("VIEW", 1)],
  ["ocean", entry("VIEW")],
  ["sea", entry("VIEW")],
  ["seaview", entry("VIEW")],
  ["beach", entry("VIEW")],
  ["coast", entry("VIEW")],
  ["coastline", entry("VIEW")],
  ["skyline", entry("VIEW")],
  ["waterfront", entry("VIEW")],
  ["lake", entry("VIEW", 1)],
  ["mountain", entry("VIEW", 1)],
  ["mountains", entry("VIEW", 1)],
  ["sunset", entry("VIEW", 1)],
  ["panorama", entry("VIEW")],
  ["panoramic", entry("VIEW", 1)],
  // Exterior
  ["exterior", entry("EXTERIOR")],
  ["facade", entry("EXTERIOR")],
  ["façade", entry("EXTERIOR")],
  ["front", entry("EXTERIOR", 1)],
  ["front yard", entry("EXTERIOR")],
  ["frontage", entry("EXTERIOR")],
  ["street", entry("EXTERIOR", 1)],
  ["curb", entry("EXTERIOR", 1)],
  ["curb appeal", entry("EXTERIOR")],
  ["kerb", entry("EXTERIOR", 1)],
  ["driveway", entry("EXTERIOR")],
  ["aerial", entry("EXTERIOR")],
  ["drone", entry("EXTERIOR")],
  ["outside", entry("EXTERIOR", 1)],
  ["house", entry("EXTERIOR", 1)],
  ["building", entry("EXTERIOR", 1)],
  // Documents
  ["floor plan", entry("FLOOR_PLAN")],
  ["floorplan", entry("FLOOR_PLAN")],
  ["floor plans", entry("FLOOR_PLAN")],
  ["site plan", entry("FLOOR_PLAN")],
  ["blueprint", entry("FLOOR_PLAN")],
  ["layout", entry("FLOOR_PLAN", 1)],
  // Everything else a listing shows
  ["office", entry("OTHER")],
  ["study", entry("OTHER")],
  ["laundry", entry("OTHER")],
  ["garage", entry("OTHER")],
  ["gym", entry("OTHER")],
  ["hallway", entry("OTHER")],
  ["foyer", entry("OTHER")],
  ["entryway", entry("OTHER")],
  ["staircase", entry("OTHER")],
  ["stairs", entry("OTHER", 1)],
  ["closet", entry("OTHER")],
  ["wardrobe", entry("OTHER", 1)],
  ["basement", entry("OTHER")],
  ["cellar", entry("OTHER")],
]);

const MAX_PHRASE_WORDS = 2;

/** Priority when two types score alike: the room a photo is "of" beats what it looks onto. */
const TIE_ORDER: readonly RoomType[] = [
  "FLOOR_PLAN",
  "BATH",
  "KITCHEN",
  "BEDROOM",
  "DINING",
  "LIVING",
  "POOL",
  "VIEW",
  "EXTERIOR",
  "OTHER",
];

/**
 * Lower-case words of free text or a file name: splits on punctuation, digits and camelCase,
 * drops the extension. "MasterBedroom_02.JPG" → ["master", "bedroom"].
 */
export function tokenize(text: string, options: { isFilename?: boolean } = {}): string[] {
  let source = text;
  if (options.isFilename) source = source.replace(/\.[A-Za-z0-9]{2,5}$/, "");
  return source
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter((word) => word.length > 0);
}

/** Score per room type for one list of words; phrases win over their single words. */
function scoreWords(words: string[]): Map<RoomType, { score: number; firstAt: number }> {
  const scores = new Map<RoomType, { score: number; firstAt: number }>();
  let i = 0;
  while (i < words.length) {
    let matched = false;
    for (let size = Math.min(MAX_PHRASE_WORDS, words.length - i); size >= 1; size--) {
      const hit = WORDS.get(words.slice(i, i + size).join(" "));
      if (!hit) continue;
      const current = scores.get(hit.roomType);
      scores.set(hit.roomType, { score: (current?.score ?? 0) + hit.weight, firstAt: current?.firstAt ?? i });
      i += size;
      matched = true;
      break;
    }
    if (!matched) i += 1;
  }
  return scores;
}

function decide(words: string[]): { roomType: RoomType; certainty: number } | null {
  let scores = [...scoreWords(words).entries()];
  // A view is what a place looks onto: "living room with ocean views" is a living room.
  if (scores.some(([type, { score }]) => type !== "VIEW" && score >= 2)) {
    scores = scores.filter(([type]) => type !== "VIEW");
  }
  if (scores.length === 0) return null;
  scores.sort(
    ([typeA, a], [typeB, b]) =>
      b.score - a.score || a.firstAt - b.firstAt || TIE_ORDER.indexOf(typeA) - TIE_ORDER.indexOf(typeB),
  );
  const [[roomType, best], second] = [scores[0]!, scores[1]];
  // A lone weak word ("view", "front") is a hint; a rival type in the same text halves the margin.
  const strength = best.score >= 2 ? 1 : 0.75;
  const margin = second ? (best.score - second[1].score) / best.score : 1;
  return { roomType, certainty: strength * (0.6 + 0.4 * margin) };
}

const SOURCE_TRUST: Record<Exclude<RoomTypeSource, "none">, number> = { tags: 0.9, alt: 0.75, filename: 0.6 };

/**
 * Best guess of what a photo shows. Tags are the most deliberate hint, then alt text, then the
 * file name; the first source that names a room wins.
 */
export function guessRoomType(hints: RoomTypeHints): RoomTypeGuess {
  const sources: [Exclude<RoomTypeSource, "none">, string[]][] = [
    ["tags", hints.tags.flatMap((tag) => [...tokenize(tag), "|"])],
    ["alt", tokenize(hints.altText ?? "")],
    ["filename", tokenize(hints.filename, { isFilename: true })],
  ];
  for (const [source, words] of sources) {
    const guess = decide(words);
    if (guess) {
      const confidence = Math.round(SOURCE_TRUST[source] * guess.certainty * 100) / 100;
      return { roomType: guess.roomType, source, confidence };
    }
  }
  return { roomType: "UNKNOWN", source: "none", confidence: 0 };
}
