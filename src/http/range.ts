/**
 * Pure HTTP range and conditional-request logic (RFC 9110 §13, §14) for media streaming.
 * No I/O: the route turns these results into status codes and headers.
 *
 * Range policy (ABUSE 25–27):
 * - One satisfiable byte range → 206 with `Content-Range: bytes a-b/N`. A last-pos beyond the end
 *   is clamped to N-1; `-n` serves the last n bytes (the whole file when n ≥ N).
 * - One unsatisfiable range (first-pos ≥ N, `-0`, or any range on an empty file) → 416 with
 *   `Content-Range: bytes *\/N`.
 * - Several ranges → we never build multipart/byteranges: the Range header is ignored and the
 *   full body is sent with 200 — EXCEPT when every range is syntactically valid and none of them
 *   is satisfiable, which gets 416 exactly like the single-range case (a client asking only for
 *   bytes past the end is told so, however many ways it asks).
 * - Anything we do not understand is ignored (200 full body, as RFC 9110 §14.2 allows): another
 *   unit, bad syntax, last-pos < first-pos, whitespace other than optional whitespace around the
 *   commas of the list, more than MAX_RANGE_SPECS specs, a header longer than MAX_RANGE_HEADER.
 * - Any number written with more than 15 digits (leading zeros included) makes the whole header
 *   "ignored" (200) before any arithmetic: 15 digits keep every value below 2^53, so there is
 *   never a NaN, a lost digit or a negative offset, and no file we serve is that large anyway.
 *   `bytes=0-18446744073709551615` and `bytes=-17208,-9223372036854758792` are therefore 200.
 *
 * `range-parser` does the arithmetic (suffixes, clamping, satisfiability) on specs this layer has
 * already checked. It cannot carry the policy itself: it trims any whitespace, refuses the empty
 * list elements RFC 9110 allows, calls last-pos < first-pos unsatisfiable (not invalid), refuses
 * a suffix longer than the file (RFC 9110 serves the whole file), computes with numbers of any
 * length, has no bound on the header or the number of specs, and silently drops the
 * unsatisfiable specs of a list (so `bytes=-0,0-1` would look like one range).
 */
import rangeParser from "range-parser";

export type IgnoredReason =
  | "unit"
  | "malformed"
  | "number-too-large"
  | "multiple-ranges"
  | "too-many-ranges"
  | "too-long";

export type RangeResult =
  | { kind: "none" }
  | { kind: "single"; start: number; end: number }
  | { kind: "unsatisfiable" }
  | { kind: "ignored"; reason: IgnoredReason };

/** Longer Range headers are ignored unread (a legitimate one is a few dozen bytes). */
export const MAX_RANGE_HEADER = 1024;
/** More range specs than this are ignored without evaluating any of them. */
export const MAX_RANGE_SPECS = 32;
/** 15 decimal digits stay below Number.MAX_SAFE_INTEGER (16 digits). */
const MAX_DIGITS = 15;

/** int-range or suffix-range: ASCII digits only, no whitespace, no sign. */
const RANGE_SPEC = /^([0-9]*)-([0-9]*)$/;

/** Why a range-spec is not one we evaluate, or null when it is. */
function specProblem(text: string): IgnoredReason | null {
  const match = RANGE_SPEC.exec(text);
  if (!match) return "malformed";
  const [, first = "", last = ""] = match;
  if (first.length > MAX_DIGITS || last.length > MAX_DIGITS) return "number-too-large";
  if (first === "" && last === "") return "malformed";
  if (first !== "" && last !== "" && Number(last) < Number(first)) return "malformed";
  return null;
}

function assertSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid representation size: ${size}`);
}

/** Interprets a Range header against a representation of `size` bytes. See the policy above. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  assertSize(size);
  if (header === undefined || header === "") return { kind: "none" };
  if (header.length > MAX_RANGE_HEADER) return { kind: "ignored", reason: "too-long" };

  const eq = header.indexOf("=");
  if (eq < 0) return { kind: "ignored", reason: "malformed" };
  // Range unit names are case-insensitive (RFC 9110 §14.1).
  if (header.slice(0, eq).toLowerCase() !== "bytes") return { kind: "ignored", reason: "unit" };

  // range-set = 1#range-spec: elements separated by OWS "," OWS; empty elements are tolerated.
  const parts = header.slice(eq + 1).split(",");
  const specs: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i]!;
    // Only the list separator may carry whitespace: never before the first element or after the last.
    if (i > 0) part = part.replace(/^[ \t]+/, "");
    if (i < parts.length - 1) part = part.replace(/[ \t]+$/, "");
    if (part === "") continue;
    specs.push(part);
    if (specs.length > MAX_RANGE_SPECS) return { kind: "ignored", reason: "too-many-ranges" };
  }
  if (specs.length === 0) return { kind: "ignored", reason: "malformed" };
  for (const spec of specs) {
    const problem = specProblem(spec);
    if (problem) return { kind: "ignored", reason: problem };
  }
  // A suffix longer than the representation selects all of it (RFC 9110 §14.1.1).
  const clamped = specs.map((spec) =>
    spec.startsWith("-") ? `-${Math.min(Number(spec.slice(1)), size)}` : spec,
  );

  const ranges = rangeParser(size, `bytes=${clamped.join(",")}`);
  if (ranges === -2) return { kind: "ignored", reason: "malformed" }; // not reached: checked above
  if (ranges === -1) return { kind: "unsatisfiable" };
  if (specs.length > 1) return { kind: "ignored", reason: "multiple-ranges" };
  return { kind: "single", start: ranges[0]!.start, end: ranges[0]!.end };
}

/** `Content-Range` of a 206 response. */
export function contentRangeHeader(start: number, end: number, size: number): string {
  assertSize(size);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
    throw new RangeError(`invalid byte range ${start}-${end} of ${size}`);
  }
  return `bytes ${start}-${end}/${size}`;
}

/** `Content-Range` of a 416 response. */
export function unsatisfiedRangeHeader(size: number): string {
  assertSize(size);
  return `bytes */${size}`;
}

// ---------------------------------------------------------------------------------------------
// Validators and conditionals

/** The strong ETag of a stored object: its SHA-256, quoted. */
export function etagFromSha256(sha256Hex: string): string {
  if (!/^[0-9a-f]{64}$/i.test(sha256Hex)) throw new RangeError("expected a SHA-256 hex digest");
  return `"${sha256Hex.toLowerCase()}"`;
}

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text. */
function parseEntityTag(text: string): EntityTag | null {
  const weak = text.startsWith("W/");
  const body = weak ? text.slice(2) : text;
  if (body.length < 2 || body[0] !== '"' || body[body.length - 1] !== '"') return null;
  const opaque = body.slice(1, -1);
  for (let i = 0; i < opaque.length; i++) {
    const c = opaque.charCodeAt(i);
    if (c === 0x22 || c < 0x21 || c === 0x7f || c > 0xff) return null;
  }
  return { weak, opaque };
}

/** Parses an If-None-Match value: "*" or a list of entity tags (malformed members are skipped). */
function parseEntityTagList(value: string): "*" | EntityTag[] {
  if (value.trim() === "*") return "*";
  const tags: EntityTag[] = [];
  // Commas may appear inside opaque tags, so scan instead of splitting.
  let i = 0;
  while (i < value.length && tags.length < 64) {
    while (i < value.length && (value[i] === " " || value[i] === "\t" || value[i] === ",")) i++;
    if (i >= value.length) break;
    let j = i;
    if (value.startsWith("W/", j)) j += 2;
    if (value[j] === '"') {
      const close = value.indexOf('"', j + 1);
      if (close < 0) break;
      const tag = parseEntityTag(value.slice(i, close + 1));
      if (tag) tags.push(tag);
      i = close + 1;
    } else {
      const comma = value.indexOf(",", i);
      i = comma < 0 ? value.length : comma + 1;
    }
  }
  return tags;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function toEpochMs(year: number, month: string, day: number, h: number, m: number, s: number): number | null {
  const mon = MONTHS.indexOf(month);
  if (mon < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, mon, day);
  date.setUTCHours(h, m, Math.min(s, 59), 0);
  return date.getUTCDate() === day ? date.getTime() : null;
}

/** Strict HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, plus the two obsolete forms recipients must accept. */
export function parseHttpDate(value: string): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return toEpochMs(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850_DATE.exec(value);
  if (m) {
    // Two-digit years: more than 50 years in the future means the previous century (RFC 9110 §5.6.7).
    const yy = Number(m[3]);
    const thisYear = new Date().getUTCFullYear();
    let year = 2000 + yy;
    if (year > thisYear + 50) year -= 100;
    return toEpochMs(year, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_DATE.exec(value);
  if (m) {
    return toEpochMs(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  }
  return null;
}

/** Formats an instant as an IMF-fixdate (for Last-Modified). */
export function formatHttpDate(date: Date): string {
  return date.toUTCString();
}

export type ConditionalOutcome = "not-modified" | "ignore-range" | "ok";

export interface ConditionalInput {
  method: string;
  ifNoneMatch?: string;
  ifRange?: string;
  ifModifiedSince?: string;
  /** The current strong ETag, e.g. from etagFromSha256. */
  etag: string;
  lastModified?: Date;
  /** For deciding whether Last-Modified is a strong validator; defaults to the current time. */
  now?: Date;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Evaluates the conditionals that matter for GET/HEAD of an immutable media object, in the order
 * of RFC 9110 §13.2.2:
 * - If-None-Match (weak comparison, `*` matches any current representation) → "not-modified" (304);
 *   when present, If-Modified-Since is not consulted.
 * - If-Modified-Since (valid date, Last-Modified not later) → "not-modified".
 * - If-Range that does not match → "ignore-range" (serve 200 full). It matches only the current
 *   strong ETag by strong comparison (a weak tag never matches), or an HTTP-date exactly equal to
 *   Last-Modified when Last-Modified is strong (at least one second older than `now`, §8.8.2.2).
 *   The caller applies "ignore-range" only when a Range header was sent.
 * Other methods get "ok": conditionals are not evaluated for them here.
 */
export function evaluateConditionals(input: ConditionalInput): ConditionalOutcome {
  const method = input.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") return "ok";
  const current = parseEntityTag(input.etag);
  if (!current || current.weak) throw new RangeError("the current ETag must be a strong entity tag");
  const lastModifiedMs = input.lastModified?.getTime();

  if (input.ifNoneMatch !== undefined) {
    const list = parseEntityTagList(input.ifNoneMatch);
    if (list === "*" || list.some((tag) => tag.opaque === current.opaque)) return "not-modified";
  } else if (input.ifModifiedSince !== undefined && lastModifiedMs !== undefined) {
    const since = parseHttpDate(input.ifModifiedSince);
    const now = input.now?.getTime() ?? Date.now();
    // A date in the future is invalid (RFC 9110 §13.1.3) and is ignored.
    if (since !== null && since <= now && seconds(lastModifiedMs) <= seconds(since)) return "not-modified";
  }

  if (input.ifRange !== undefined) {
    const value = input.ifRange;
    if (value.startsWith('"') || value.startsWith("W/")) {
      const tag = parseEntityTag(value);
      if (!tag || tag.weak || tag.opaque !== current.opaque) return "ignore-range";
    } else {
      const date = parseHttpDate(value);
      const now = input.now?.getTime() ?? Date.now();
      const strong = lastModifiedMs !== undefined && seconds(now) - seconds(lastModifiedMs) >= 1;
      if (date === null || !strong || seconds(date) !== seconds(lastModifiedMs!)) return "ignore-range";
    }
  }
  return "ok";
}

// ---------------------------------------------------------------------------------------------
// Content-Disposition

const MAX_FILENAME_LENGTH = 180;
/** RFC 8187 attr-char: everything else is percent-encoded in filename*. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

function encodeRfc8187(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * `Content-Disposition` (RFC 6266): an ASCII `filename` fallback with every unsafe character replaced,
 * plus `filename*=UTF-8''…` when the real name is not plain ASCII. Control characters (CR/LF
 * included), path separators and quotes can never reach the header unescaped.
 */
export function contentDisposition(filename: string, download: boolean): string {
  const type = download ? "attachment" : "inline";
  // Drop controls (header injection), turn path separators into "_", and collapse whitespace.
  let clean = Array.from(filename.normalize("NFC"))
    .filter((ch) => {
      const c = ch.codePointAt(0)!;
      return c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c <= 0x9f) && c !== 0x2028 && c !== 0x2029;
    })
    .map((ch) => (ch === "/" || ch === "\\" ? "_" : ch))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  clean = Array.from(clean).slice(0, MAX_FILENAME_LENGTH).join("");
  if (clean === "" || clean === "." || clean === "..") clean = "download";

  const fallback = Array.from(clean)
    .map((ch) => {
      const c = ch.codePointAt(0)!;
      return c < 0x20 || c > 0x7e || ch === '"' || ch === "\\" || ch === "%" ? "_" : ch;
    })
    .join("");
  const header = `${type}; filename="${fallback}"`;
  return fallback === clean ? header : `${header}; filename*=UTF-8''${encodeRfc8187(clean)}`;
}
