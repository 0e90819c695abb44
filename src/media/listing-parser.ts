/**
 * Pure extraction of listing photos from a listing page's HTML: <img> (src, srcset, lazy data-*
 * attributes), <picture> sources, og:image / twitter:image meta tags and JSON-LD. htmlparser2
 * tokenizes (the HTML character references, all 2,231 named ones included; raw-text elements such
 * as <script> and <title>, whose content is never read as markup) and @prettier/parse-srcset reads
 * srcset attributes. Only the tag/attribute level matters here, so no tree is built.
 */
import parseSrcsetAttribute from "@prettier/parse-srcset";
import { Parser } from "htmlparser2";
import { AppError } from "../errors.js";

export type PhotoSource = "img" | "srcset" | "og:image" | "json-ld" | "picture";

export interface ListingPhoto {
  url: string;
  altText: string | null;
  source: PhotoSource;
}

export const MAX_LISTING_PHOTOS = 200;
/** Width/height attributes below this mark icons, spacers and thumbnails. */
const MIN_DIMENSION = 200;
const MAX_ALT_LENGTH = 500;
const MAX_JSON_LD_NODES = 10_000;
const MAX_JSON_LD_DEPTH = 32;
const MAX_SRCSET_CANDIDATES = 100;

// ---------------------------------------------------------------------------------------------
// Tags

type Attributes = Readonly<Record<string, string>>;

export interface HtmlTag {
  name: string;
  /** Lower-cased names; values entity-decoded; the first occurrence of a name wins. */
  attrs: Attributes;
  end: boolean;
  /** The text of a <script> element, for its start tag. */
  text?: string;
}

/** Start and end tags in document order (end tags include those the parser implies). */
export function readTags(html: string): HtmlTag[] {
  const tags: HtmlTag[] = [];
  let script: HtmlTag | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const tag: HtmlTag = { name, attrs, end: false };
        tags.push(tag);
        script = name === "script" ? tag : null;
      },
      ontext(text) {
        if (script) script.text = (script.text ?? "") + text;
      },
      onclosetag(name) {
        script = null;
        tags.push({ name, attrs: {}, end: true });
      },
    },
    { decodeEntities: true },
  );
  parser.end(html);
  return tags;
}

// ---------------------------------------------------------------------------------------------
// srcset

interface Candidate {
  url: string;
  width: number | null;
  density: number | null;
}

/**
 * The candidates of a srcset attribute (URLs may contain commas). The parser refuses an attribute
 * with an invalid descriptor as a whole, so such an attribute offers no candidate and the image
 * falls back to its other attributes.
 */
export function parseSrcset(value: string): Candidate[] {
  let candidates: ReturnType<typeof parseSrcsetAttribute>;
  try {
    candidates = parseSrcsetAttribute(value);
  } catch {
    return [];
  }
  return candidates.slice(0, MAX_SRCSET_CANDIDATES).map((candidate) => ({
    url: candidate.source.value,
    width: candidate.width?.value ?? null,
    density: candidate.density?.value ?? null,
  }));
}

/** The largest candidate: by width descriptor when any has one, else by density (default 1x). */
function largestCandidate(candidates: readonly Candidate[]): Candidate | null {
  const withWidth = candidates.filter((c) => c.width !== null);
  const pool = withWidth.length > 0 ? withWidth : candidates;
  let best: Candidate | null = null;
  for (const c of pool) {
    const size = withWidth.length > 0 ? c.width! : (c.density ?? 1);
    const bestSize = best === null ? -1 : withWidth.length > 0 ? best.width! : (best.density ?? 1);
    if (size > bestSize) best = c;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Extraction

const SKIPPED_PATH = /(^|[^a-z])(logos?|icons?|favicons?|sprites?|avatars?)([^a-z]|$)/i;
const SKIPPED_EXTENSION = /\.(svg|ico)$/i;

/** Collapses HTML's ASCII whitespace; a no-break space (`&nbsp;`) is the page's choice and stays. */
function cleanAlt(value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const text = value.replace(/[ \t\n\f\r]+/g, " ").trim();
  return text === "" ? null : text.slice(0, MAX_ALT_LENGTH);
}

function isTinyByAttributes(attrs: Attributes): boolean {
  for (const key of ["width", "height"]) {
    const raw = attrs[key];
    if (raw === undefined) continue;
    const match = /^\s*(\d+)/.exec(raw);
    if (match && !raw.trim().endsWith("%") && Number(match[1]) < MIN_DIMENSION) return true;
  }
  return false;
}

class PhotoCollector {
  readonly photos: ListingPhoto[] = [];
  private readonly index = new Map<string, ListingPhoto>();

  constructor(private base: URL) {}

  setBase(base: URL): void {
    this.base = base;
  }

  get full(): boolean {
    return this.photos.length >= MAX_LISTING_PHOTOS;
  }

  /** Resolves and filters a candidate URL; returns null when it is not a usable photo URL. */
  resolve(raw: string | undefined): URL | null {
    if (raw === undefined) return null;
    const value = raw.trim();
    if (value === "" || /^data:/i.test(value)) return null;
    let url: URL;
    try {
      url = new URL(value, this.base);
    } catch {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if (url.username !== "" || url.password !== "") return null;
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {
      // keep the encoded path
    }
    if (SKIPPED_PATH.test(path) || SKIPPED_EXTENSION.test(path)) return null;
    url.hash = "";
    return url;
  }

  add(raw: string | undefined, altText: string | null, source: PhotoSource): void {
    if (this.full) return;
    const url = this.resolve(raw);
    if (!url) return;
    const existing = this.index.get(url.href);
    if (existing) {
      if (existing.altText === null && altText !== null) existing.altText = altText;
      return;
    }
    const photo: ListingPhoto = { url: url.href, altText, source };
    this.index.set(url.href, photo);
    this.photos.push(photo);
  }
}

/** The best photo URL of an <img>: srcset, data-srcset, lazy data-src forms, then src. */
function imgChoice(
  attrs: Attributes,
  collector: PhotoCollector,
): { candidate: Candidate; source: PhotoSource } | null {
  // Lazy loaders put a placeholder in srcset/src and the real image in data-*: unusable
  // candidates (data: URIs, icons) are dropped before choosing.
  for (const key of ["srcset", "data-srcset", "data-lazy-srcset"]) {
    const value = attrs[key];
    if (value === undefined) continue;
    const best = largestCandidate(parseSrcset(value).filter((c) => collector.resolve(c.url) !== null));
    if (best) return { candidate: best, source: "srcset" };
  }
  for (const key of ["data-src", "data-lazy-src", "data-original", "data-lazy", "src"]) {
    const value = attrs[key];
    if (value !== undefined && collector.resolve(value)) {
      return { candidate: { url: value, width: null, density: null }, source: "img" };
    }
  }
  return null;
}

const META_IMAGE_KEYS = new Set([
  "og:image",
  "og:image:url",
  "og:image:secure_url",
  "twitter:image",
  "twitter:image:src",
]);

// --- JSON-LD

function typeIncludes(node: Record<string, unknown>, type: string): boolean {
  const value = node["@type"];
  if (typeof value === "string") return value === type || value.endsWith(`/${type}`);
  return Array.isArray(value) && value.some((t) => t === type);
}

function textOf(value: unknown): string | null {
  if (typeof value === "string") return cleanAlt(value);
  if (Array.isArray(value)) return textOf(value[0]);
  if (value && typeof value === "object" && typeof (value as { "@value"?: unknown })["@value"] === "string") {
    return cleanAlt((value as { "@value": string })["@value"]);
  }
  return null;
}

function collectJsonLd(text: string, collector: PhotoCollector): void {
  let data: unknown;
  const trimmed = text
    .trim()
    .replace(/^<!--/, "")
    .replace(/-->$/, "")
    .replace(/^\s*\/\/\s*<!\[CDATA\[/, "")
    .replace(/\/\/\s*\]\]>\s*$/, "")
    .trim();
  try {
    data = JSON.parse(trimmed);
  } catch {
    return;
  }
  let budget = MAX_JSON_LD_NODES;

  const addImage = (value: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > MAX_JSON_LD_DEPTH) return;
    if (typeof value === "string") collector.add(value, null, "json-ld");
    else if (Array.isArray(value)) for (const item of value) addImage(item, depth + 1);
    else if (value && typeof value === "object") {
      const node = value as Record<string, unknown>;
      const url = [node["contentUrl"], node["url"]].find((v) => typeof v === "string") as string | undefined;
      if (url) collector.add(url, textOf(node["caption"]) ?? textOf(node["name"]), "json-ld");
    }
  };

  const walk = (value: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > MAX_JSON_LD_DEPTH || collector.full) return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
      return;
    }
    if (!value || typeof value !== "object") return;
    const node = value as Record<string, unknown>;
    if (typeIncludes(node, "ImageObject")) addImage(node, depth);
    for (const [key, child] of Object.entries(node)) {
      // Logos and thumbnails are not listing photos.
      if (key === "logo" || key === "thumbnail" || key === "thumbnailUrl") continue;
      if (key === "image" || key === "photo" || key === "photos") addImage(child, depth + 1);
      else if (child && typeof child === "object") walk(child, depth + 1);
    }
  };
  walk(data, 0);
}

/**
 * Extracts the listing's photos, in document order, deduplicated by absolute URL (the first
 * occurrence keeps its source; a later one may supply the missing alt text), at most
 * MAX_LISTING_PHOTOS. Relative URLs resolve against the first <base href>, else the page URL.
 */
export function extractListingPhotos(html: string, pageUrl: string): ListingPhoto[] {
  let page: URL;
  try {
    page = new URL(pageUrl);
  } catch {
    throw new AppError("BAD_USER_INPUT", "The listing page URL is not a valid URL");
  }
  const tags = readTags(html);
  const collector = new PhotoCollector(page);
  const baseHref = tags.find((tag) => tag.name === "base" && !tag.end && tag.attrs.href !== undefined)?.attrs
    .href;
  if (baseHref !== undefined) {
    try {
      const base = new URL(baseHref.trim(), page);
      if (base.protocol === "http:" || base.protocol === "https:") collector.setBase(base);
    } catch {
      // an invalid base leaves the page URL in charge
    }
  }

  let picture: { candidates: Candidate[]; img: Attributes | null } | null = null;
  const flushPicture = (): void => {
    if (!picture) return;
    const { candidates, img } = picture;
    picture = null;
    if (img && isTinyByAttributes(img)) return;
    const alt = cleanAlt(img?.alt);
    const best = largestCandidate(candidates.filter((c) => collector.resolve(c.url) !== null));
    if (best) collector.add(best.url, alt, "picture");
  };
  let lastMetaImage: string | null = null;

  for (const tag of tags) {
    if (collector.full) break;
    if (tag.name === "picture") {
      flushPicture();
      if (!tag.end) picture = { candidates: [], img: null };
      continue;
    }
    if (tag.end) continue;
    const attrs = tag.attrs;
    switch (tag.name) {
      case "source":
        if (picture) {
          for (const key of ["srcset", "data-srcset"]) {
            const value = attrs[key];
            if (value !== undefined) picture.candidates.push(...parseSrcset(value));
          }
        }
        break;
      case "img": {
        if (picture && picture.img === null) {
          picture.img = attrs;
          // The img's own best candidate competes with the <source> candidates.
          const choice = imgChoice(attrs, collector);
          if (choice) picture.candidates.push(choice.candidate);
          break;
        }
        if (isTinyByAttributes(attrs)) break;
        const choice = imgChoice(attrs, collector);
        if (choice) collector.add(choice.candidate.url, cleanAlt(attrs.alt), choice.source);
        break;
      }
      case "meta": {
        const key = (attrs.property ?? attrs.name ?? "").trim().toLowerCase();
        const content = attrs.content;
        if (META_IMAGE_KEYS.has(key) && content !== undefined) {
          collector.add(content, null, "og:image");
          lastMetaImage = content;
        } else if (
          (key === "og:image:alt" || key === "twitter:image:alt") &&
          content !== undefined &&
          lastMetaImage
        ) {
          collector.add(lastMetaImage, cleanAlt(content), "og:image");
        }
        break;
      }
      case "script":
        if ((attrs.type ?? "").trim().toLowerCase() === "application/ld+json" && tag.text !== undefined) {
          collectJsonLd(tag.text, collector);
        }
        break;
    }
  }
  flushPicture();
  return collector.photos;
}
