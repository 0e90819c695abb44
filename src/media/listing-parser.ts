/**
 * Pure extraction of listing photos from a listing page's HTML: <img> (src, srcset, lazy data-*
 * attributes), <picture> sources, og:image / twitter:image meta tags and JSON-LD. No HTML library:
 * a small tokenizer walks the tags (quotes, unquoted values, entities, comments, raw-text elements
 * such as <script> whose content is never parsed as markup). Only the tag/attribute level matters
 * here, so no tree is built.
 */
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

// ---------------------------------------------------------------------------------------------
// Tokenizer

export interface HtmlTag {
  name: string;
  /** Lower-cased names; values entity-decoded; the first occurrence of a name wins. */
  attrs: Map<string, string>;
  end: boolean;
  /** Content of a raw-text element (script, style, …), for its start tag. */
  text?: string;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  hellip: "\u2026",
  ndash: "\u2013",
  mdash: "\u2014",
  lsquo: "\u2018",
  rsquo: "\u2019",
  ldquo: "\u201c",
  rdquo: "\u201d",
  copy: "\u00a9",
  reg: "\u00ae",
  trade: "\u2122",
  sup2: "\u00b2",
  deg: "\u00b0",
  eacute: "\u00e9",
  egrave: "\u00e8",
  agrave: "\u00e0",
  ccedil: "\u00e7",
  uuml: "\u00fc",
  ouml: "\u00f6",
  auml: "\u00e4",
  szlig: "\u00df",
};
/** Entities HTML also recognises without the semicolon (legacy). */
const LEGACY_ENTITIES = new Set(["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"]);
const ENTITY = /&(?:#[xX]([0-9a-fA-F]{1,6});?|#([0-9]{1,7});?|([A-Za-z][A-Za-z0-9]{1,31})(;?))/g;

function codePointText(code: number): string {
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\ufffd";
  return String.fromCodePoint(code);
}

/** Decodes character references (numeric, and the named ones that occur in real listing pages). */
export function decodeEntities(text: string, inAttribute = true): string {
  if (!text.includes("&")) return text;
  return text.replace(
    ENTITY,
    (match, hex: string, dec: string, name: string, semi: string, offset: number) => {
      if (hex !== undefined) return codePointText(Number.parseInt(hex, 16));
      if (dec !== undefined) return codePointText(Number.parseInt(dec, 10));
      const value = NAMED_ENTITIES[name];
      if (value === undefined) return match;
      if (semi === ";") return value;
      // Without ";", only legacy names decode, and in attributes not before [A-Za-z0-9=].
      if (!LEGACY_ENTITIES.has(name)) return match;
      const next = text[offset + match.length] ?? "";
      return inAttribute && /[A-Za-z0-9=]/.test(next) ? match : value;
    },
  );
}

const RAW_TEXT_ELEMENTS = new Set([
  "script",
  "style",
  "textarea",
  "title",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
]);
const isSpace = (ch: string | undefined): boolean =>
  ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\f";
const isAsciiLetter = (ch: string | undefined): boolean => ch !== undefined && /^[A-Za-z]$/.test(ch);

/** Yields start and end tags in document order; text, comments and doctypes are skipped. */
export function* tokenizeHtml(html: string): Generator<HtmlTag> {
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) return;
    i = lt + 1;
    const next = html[i];
    if (html.startsWith("!--", i)) {
      const close = html.indexOf("-->", i + 3);
      i = close < 0 ? n : close + 3;
      continue;
    }
    if (next === "!" || next === "?") {
      const close = html.indexOf(">", i);
      i = close < 0 ? n : close + 1;
      continue;
    }
    const end = next === "/";
    if (end) i++;
    if (!isAsciiLetter(html[i])) {
      if (end) {
        // "</ bogus>" is a bogus comment.
        const close = html.indexOf(">", i);
        i = close < 0 ? n : close + 1;
      }
      continue;
    }
    let j = i;
    while (j < n && !isSpace(html[j]) && html[j] !== "/" && html[j] !== ">") j++;
    const name = html.slice(i, j).toLowerCase();
    i = j;

    const attrs = new Map<string, string>();
    while (i < n) {
      while (i < n && (isSpace(html[i]) || html[i] === "/")) i++;
      if (i >= n || html[i] === ">") break;
      let k = i + 1; // a name may start with "=" (spec quirk); it never ends the name at once
      while (k < n && !isSpace(html[k]) && html[k] !== "/" && html[k] !== ">" && html[k] !== "=") k++;
      const attrName = html.slice(i, k).toLowerCase();
      i = k;
      while (i < n && isSpace(html[i])) i++;
      let value = "";
      if (html[i] === "=") {
        i++;
        while (i < n && isSpace(html[i])) i++;
        const quote = html[i];
        if (quote === '"' || quote === "'") {
          const close = html.indexOf(quote, i + 1);
          const stop = close < 0 ? n : close;
          value = html.slice(i + 1, stop);
          i = close < 0 ? n : close + 1;
        } else {
          let v = i;
          while (v < n && !isSpace(html[v]) && html[v] !== ">") v++;
          value = html.slice(i, v);
          i = v;
        }
      }
      if (!attrs.has(attrName)) attrs.set(attrName, decodeEntities(value));
    }
    i = Math.min(n, i + 1); // past ">"

    if (!end && RAW_TEXT_ELEMENTS.has(name)) {
      const closer = new RegExp(`</${name}(?=[\\s/>]|$)`, "gi");
      closer.lastIndex = i;
      const match = closer.exec(html);
      const stop = match ? match.index : n;
      yield { name, attrs, end, text: html.slice(i, stop) };
      if (!match) return;
      const close = html.indexOf(">", stop);
      i = close < 0 ? n : close + 1;
      continue;
    }
    yield { name, attrs, end };
  }
}

// ---------------------------------------------------------------------------------------------
// srcset

interface Candidate {
  url: string;
  width: number | null;
  density: number | null;
}

/** Parses a srcset attribute (HTML "parse a srcset attribute": URLs may contain commas). */
export function parseSrcset(value: string): Candidate[] {
  const candidates: Candidate[] = [];
  let i = 0;
  const n = value.length;
  while (i < n && candidates.length < 100) {
    while (i < n && (isSpace(value[i]) || value[i] === ",")) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && !isSpace(value[j])) j++;
    let url = value.slice(i, j);
    i = j;
    const descriptors: string[] = [];
    if (url.endsWith(",")) {
      url = url.replace(/,+$/, "");
    } else {
      // Descriptors run to the next comma outside parentheses.
      let current = "";
      let depth = 0;
      while (i < n) {
        const ch = value[i]!;
        if (ch === "(") depth++;
        else if (ch === ")") depth = Math.max(0, depth - 1);
        else if (ch === "," && depth === 0) {
          i++;
          break;
        }
        if (isSpace(ch) && depth === 0) {
          if (current) descriptors.push(current);
          current = "";
        } else {
          current += ch;
        }
        i++;
      }
      if (current) descriptors.push(current);
    }
    if (url === "") continue;
    let width: number | null = null;
    let density: number | null = null;
    let valid = true;
    for (const d of descriptors) {
      const w = /^(\d+)w$/.exec(d);
      const x = /^(\d+(?:\.\d+)?|\.\d+)x$/.exec(d);
      if (w && width === null && density === null) width = Number(w[1]);
      else if (x && width === null && density === null) density = Number(x[1]);
      else if (!/^\d+h$/.test(d)) valid = false;
    }
    if (valid) candidates.push({ url, width, density });
  }
  return candidates;
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

function cleanAlt(value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const text = value.replace(/\s+/g, " ").trim();
  return text === "" ? null : text.slice(0, MAX_ALT_LENGTH);
}

function isTinyByAttributes(attrs: Map<string, string>): boolean {
  for (const key of ["width", "height"]) {
    const raw = attrs.get(key);
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
  attrs: Map<string, string>,
  collector: PhotoCollector,
): { candidate: Candidate; source: PhotoSource } | null {
  // Lazy loaders put a placeholder in srcset/src and the real image in data-*: unusable
  // candidates (data: URIs, icons) are dropped before choosing.
  for (const key of ["srcset", "data-srcset", "data-lazy-srcset"]) {
    const value = attrs.get(key);
    if (value === undefined) continue;
    const best = largestCandidate(parseSrcset(value).filter((c) => collector.resolve(c.url) !== null));
    if (best) return { candidate: best, source: "srcset" };
  }
  for (const key of ["data-src", "data-lazy-src", "data-original", "data-lazy", "src"]) {
    const value = attrs.get(key);
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
  const tags = [...tokenizeHtml(html)];
  const collector = new PhotoCollector(page);
  const baseTag = tags.find((tag) => tag.name === "base" && !tag.end && tag.attrs.has("href"));
  if (baseTag) {
    try {
      const base = new URL(baseTag.attrs.get("href")!.trim(), page);
      if (base.protocol === "http:" || base.protocol === "https:") collector.setBase(base);
    } catch {
      // an invalid base leaves the page URL in charge
    }
  }

  let picture: { candidates: Candidate[]; img: Map<string, string> | null } | null = null;
  const flushPicture = (): void => {
    if (!picture) return;
    const { candidates, img } = picture;
    picture = null;
    if (img && isTinyByAttributes(img)) return;
    const alt = cleanAlt(img?.get("alt"));
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
            const value = attrs.get(key);
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
        if (choice) collector.add(choice.candidate.url, cleanAlt(attrs.get("alt")), choice.source);
        break;
      }
      case "meta": {
        const key = (attrs.get("property") ?? attrs.get("name") ?? "").trim().toLowerCase();
        const content = attrs.get("content");
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
        if (
          (attrs.get("type") ?? "").trim().toLowerCase() === "application/ld+json" &&
          tag.text !== undefined
        ) {
          collectJsonLd(tag.text, collector);
        }
        break;
    }
  }
  flushPicture();
  return collector.photos;
}
