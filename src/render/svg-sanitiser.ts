/**
 * SVG logos are documents, not pictures: they can carry scripts, event handlers, links to other
 * files or URLs, HTML inside `foreignObject`, entity bombs in a DOCTYPE, `<use>` chains that
 * expand exponentially, or a size that makes the rasteriser allocate gigabytes (ABUSE 50).
 *
 * This reads the file with htmlparser2 (XML mode, streaming, linear time), refuses anything
 * hostile with a reason a user can act on, drops what is merely foreign (editor metadata,
 * animation) and writes a new document from an allowlist of elements and attributes — the
 * original bytes never reach the rasteriser. The output's width/height are set by the caller
 * (`toSvg({ width, height })`), so the raster is exactly the size needed.
 */
import { Parser } from "htmlparser2";
import { AppError } from "../errors.js";

export interface SvgLimits {
  maxBytes: number;
  maxElements: number;
  maxDepth: number;
  maxUses: number;
  /** Largest width/height a viewBox or the root may declare, in user units. */
  maxDimension: number;
}

export const DEFAULT_SVG_LIMITS: Readonly<SvgLimits> = Object.freeze({
  maxBytes: 512 * 1024,
  maxElements: 5000,
  maxDepth: 48,
  maxUses: 200,
  maxDimension: 20_000,
});

/** Static-graphics SVG; everything else is dropped (or refused when listed in REFUSED). */
const ELEMENTS = new Set([
  "svg",
  "g",
  "defs",
  "symbol",
  "use",
  "path",
  "rect",
  "circle",
  "ellipse",
  "line",
  "polyline",
  "polygon",
  "lineargradient",
  "radialgradient",
  "stop",
  "clippath",
  "mask",
  "pattern",
  "style",
  "filter",
  "fegaussianblur",
  "feoffset",
  "feflood",
  "fecomposite",
  "femerge",
  "femergenode",
  "fecolormatrix",
  "feblend",
  "fedropshadow",
]);

/** Elements that make the whole file unacceptable, with the reason shown to the user. */
const REFUSED: Record<string, string> = {
  script: "contains a script",
  foreignobject: "contains foreignObject (embedded HTML)",
  iframe: "contains an embedded document",
  object: "contains an embedded object",
  embed: "contains an embedded object",
  image: "embeds an image (upload the logo as PNG instead, or convert it to vector paths)",
  feimage: "embeds an image in a filter",
  text: "contains text (convert text to outlines in your design tool)",
  textpath: "contains text (convert text to outlines in your design tool)",
};

const ATTRIBUTES = new Set(
  (
    "id class style transform d x y x1 y1 x2 y2 cx cy r rx ry fx fy fr width height points viewbox " +
    "preserveaspectratio fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin " +
    "stroke-miterlimit stroke-dasharray stroke-dashoffset stroke-opacity opacity clip-path clip-rule mask " +
    "offset stop-color stop-opacity gradientunits gradienttransform spreadmethod patternunits " +
    "patterncontentunits patterntransform clippathunits maskunits maskcontentunits filter filterunits " +
    "primitiveunits stddeviation dx dy in in2 result operator k1 k2 k3 k4 values type mode flood-color " +
    "flood-opacity color display visibility href xlink:href overflow vector-effect shape-rendering " +
    "color-interpolation color-interpolation-filters paint-order"
  ).split(" "),
);

/** Element names the output writes in SVG's camelCase (the parser lowercases). */
const CAMEL = new Map(
  [
    "linearGradient",
    "radialGradient",
    "clipPath",
    "feGaussianBlur",
    "feOffset",
    "feFlood",
    "feComposite",
    "feMerge",
    "feMergeNode",
    "feColorMatrix",
    "feBlend",
    "feDropShadow",
    "viewBox",
    "preserveAspectRatio",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "clipPathUnits",
    "maskUnits",
    "maskContentUnits",
    "filterUnits",
    "primitiveUnits",
    "stdDeviation",
  ].map((name) => [name.toLowerCase(), name]),
);

const PREDEFINED_ENTITIES = new Set(["amp", "lt", "gt", "quot", "apos"]);
const FRAGMENT_REF = /^#[A-Za-z_][\w.:-]*$/;

export interface SanitisedSvg {
  /** The artwork's own box (viewBox): [minX, minY, width, height]. */
  viewBox: [number, number, number, number];
  /** The rewritten document declaring `width`×`height` pixels (default: its own size, capped). */
  toSvg(size?: { width: number; height: number }): string;
}

const refuse = (reason: string): AppError =>
  new AppError("UNSUPPORTED_MEDIA_TYPE", `SVG refused: ${reason}`, { details: { reason } });

const escapeAttr = (value: string): string =>
  value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll('"', "&quot;");

/** Refuses CSS that reaches outside the document or runs code; returns it unchanged otherwise. */
function checkCss(css: string): string {
  const lower = css.toLowerCase();
  // escapes could spell any of the words below in a way no check would see
  if (lower.includes("\\")) throw refuse("its CSS uses escapes");
  if (lower.includes("@import")) throw refuse("its CSS imports another file");
  if (/expression\s*\(|javascript:|-moz-binding|behavior\s*:/.test(lower)) throw refuse("its CSS runs code");
  for (const match of lower.matchAll(/url\s*\(([^)]*)(\)?)/g)) {
    const ref = match[1]!
      .trim()
      .replace(/^(['"])(.*)\1$/, "$2")
      .trim();
    if (!match[2] || !FRAGMENT_REF.test(ref)) throw refuse("it references an external resource (url)");
  }
  return css;
}

/** A length in user units/px; percentages and other units are not accepted on the root. */
function parseLength(value: string | undefined): number | null {
  if (value === undefined) return null;
  const match = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(px)?\s*$/i.exec(value);
  return match ? Number(match[1]) : null;
}

function parseViewBox(value: string, limits: SvgLimits): [number, number, number, number] {
  const numbers = value
    .trim()
    .split(/[\s,]+/)
    .map(Number);
  if (numbers.length !== 4 || numbers.some((n) => !Number.isFinite(n)))
    throw refuse("its viewBox is malformed");
  const [minX, minY, width, height] = numbers as [number, number, number, number];
  if (!(width > 0 && height > 0)) throw refuse("its viewBox is empty");
  if (
    width > limits.maxDimension ||
    height > limits.maxDimension ||
    Math.abs(minX) > limits.maxDimension * 10 ||
    Math.abs(minY) > limits.maxDimension * 10
  ) {
    throw refuse(`its viewBox is too large (over ${limits.maxDimension} units)`);
  }
  return [minX, minY, width, height];
}

interface OpenElement {
  name: string;
  /** Written to the output (allowlisted and not inside a dropped subtree). */
  kept: boolean;
  id: string | null;
  containsUse: boolean;
}

/**
 * Parses, checks and rewrites an SVG. Throws UNSUPPORTED_MEDIA_TYPE with `details.reason` for a
 * hostile or unusable file.
 */
export function sanitiseSvg(input: Buffer | string, limits: SvgLimits = DEFAULT_SVG_LIMITS): SanitisedSvg {
  const bytes = typeof input === "string" ? Buffer.byteLength(input) : input.length;
  if (bytes > limits.maxBytes) throw refuse(`it is larger than ${Math.round(limits.maxBytes / 1024)} KiB`);
  const text = typeof input === "string" ? input : input.toString("utf8");
  if (text.includes("\u0000")) throw refuse("it is not a text file");
  for (const match of text.matchAll(/&([A-Za-z_][\w.-]*);/g)) {
    if (!PREDEFINED_ENTITIES.has(match[1]!)) throw refuse("it uses entity references (DOCTYPE entities)");
  }

  const out: string[] = [];
  const stack: OpenElement[] = [];
  const idsWithUse = new Map<string, boolean>();
  const useTargets: string[] = [];
  let elements = 0;
  let droppedDepth = 0;
  let root: Record<string, string> | null = null;
  let failure: AppError | null = null;

  const fail = (error: AppError) => {
    failure ??= error;
    parser.pause(); // stop reading at the first reason
  };

  const parser = new Parser(
    {
      onprocessinginstruction(name) {
        const lower = name.toLowerCase();
        if (lower === "!doctype") fail(refuse("it has a DOCTYPE (entity declarations are not allowed)"));
        else if (lower !== "?xml") fail(refuse("it has a processing instruction that loads another file"));
      },
      onopentag(rawName, attributes) {
        if (failure) return;
        const name = rawName.toLowerCase().replace(/^svg:/, "");
        elements += 1;
        if (elements > limits.maxElements)
          return fail(refuse(`it has more than ${limits.maxElements} elements`));
        if (stack.length >= limits.maxDepth)
          return fail(refuse(`it nests deeper than ${limits.maxDepth} levels`));
        if (REFUSED[name]) return fail(refuse(REFUSED[name]!));
        if (stack.length === 0) {
          if (name !== "svg") return fail(refuse("its root element is not <svg>"));
          root = attributes;
        }
        for (const [key, value] of Object.entries(attributes)) {
          const attribute = key.toLowerCase();
          if (attribute.startsWith("on")) return fail(refuse(`it has an event handler (${attribute})`));
          if ((attribute === "href" || attribute.endsWith(":href")) && !FRAGMENT_REF.test(value.trim())) {
            return fail(refuse("it references an external resource (href)"));
          }
          if (/url\s*\(/i.test(value) || attribute === "style") {
            try {
              checkCss(value);
            } catch (error) {
              return fail(error as AppError);
            }
          }
        }
        const parent = stack[stack.length - 1];
        const kept = droppedDepth === 0 && ELEMENTS.has(name);
        if (!kept) droppedDepth += 1;
        const id = attributes.id ?? null;
        const element: OpenElement = { name, kept, id, containsUse: name === "use" };
        if (name === "use" && kept) {
          const target = (attributes.href ?? attributes["xlink:href"] ?? "").trim();
          if (target) useTargets.push(target.slice(1));
          if (useTargets.length > limits.maxUses)
            return fail(refuse(`it has more than ${limits.maxUses} <use> elements`));
        }
        stack.push(element);
        if (!kept || !parent) return; // the root is written at the end, with its size
        out.push(`<${CAMEL.get(name) ?? name}${attributesOf(attributes)}>`);
      },
      ontext(data) {
        const current = stack[stack.length - 1];
        if (failure || !current?.kept || current.name !== "style") return;
        try {
          out.push(escapeAttr(checkCss(data)).replaceAll(">", "&gt;"));
        } catch (error) {
          fail(error as AppError);
        }
      },
      onclosetag() {
        if (failure) return;
        const element = stack.pop();
        if (!element) return;
        if (!element.kept) droppedDepth -= 1;
        else if (stack.length > 0) out.push(`</${CAMEL.get(element.name) ?? element.name}>`);
        if (element.id) idsWithUse.set(element.id, element.containsUse);
        const parent = stack[stack.length - 1];
        if (parent && element.containsUse) parent.containsUse = true;
      },
    },
    { xmlMode: true, decodeEntities: true, recognizeSelfClosing: true },
  );
  parser.end(text);
  if (failure) throw failure;
  if (!root) throw refuse("it has no <svg> element");

  // A <use> may only point at a subtree without <use>: expansion stays linear in the file size.
  for (const target of useTargets) {
    if (idsWithUse.get(target)) throw refuse("it chains <use> references (an expansion bomb)");
  }

  const rootAttributes = root as Record<string, string>;
  const declaredWidth = parseLength(rootAttributes.width);
  const declaredHeight = parseLength(rootAttributes.height);
  for (const value of [declaredWidth, declaredHeight]) {
    if (value !== null && !(value > 0 && value <= limits.maxDimension)) {
      throw refuse(`its declared size is out of range (1…${limits.maxDimension})`);
    }
  }
  const viewBoxText = rootAttributes.viewBox ?? rootAttributes.viewbox;
  let viewBox: [number, number, number, number];
  if (viewBoxText !== undefined) viewBox = parseViewBox(viewBoxText, limits);
  else if (declaredWidth && declaredHeight) viewBox = [0, 0, declaredWidth, declaredHeight];
  else throw refuse("it declares no size (no viewBox and no width/height in pixels)");

  const preserve = rootAttributes.preserveAspectRatio ?? rootAttributes.preserveaspectratio;
  const extra =
    (preserve && /^[\w\s]+$/.test(preserve) ? ` preserveAspectRatio="${preserve}"` : "") +
    attributesOf(rootAttributes, new Set(["width", "height", "viewbox", "preserveaspectratio", "x", "y"]));
  const body = out.join("");
  const ownSize =
    declaredWidth && declaredHeight
      ? { width: declaredWidth, height: declaredHeight }
      : { width: viewBox[2], height: viewBox[3] };
  return {
    viewBox,
    toSvg(size = ownSize) {
      if (!(size.width > 0 && size.height > 0)) throw new Error("raster size must be positive");
      return (
        `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"` +
        ` width="${size.width}" height="${size.height}" viewBox="${viewBox.join(" ")}"${extra}>${body}</svg>`
      );
    },
  };
}

function attributesOf(attributes: Record<string, string>, skip: ReadonlySet<string> = new Set()): string {
  let written = "";
  for (const [key, value] of Object.entries(attributes)) {
    const name = key.toLowerCase();
    if (skip.has(name) || !ATTRIBUTES.has(name)) continue;
    written += ` ${CAMEL.get(name) ?? name}="${escapeAttr(value)}"`;
  }
  return written;
}
