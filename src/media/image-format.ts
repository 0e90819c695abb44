/**
 * Image format sniffing and header-only dimension reading.
 *
 * Both work on the first bytes of a file and never decode pixels: the format decides whether
 * we hand the bytes to a decoder at all, and the declared size lets us refuse a decompression
 * bomb (a few kB declaring 65535×65535) before the decoder allocates anything.
 */

export const IMAGE_FORMATS = ["jpeg", "png", "webp", "avif", "heif", "gif"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const IMAGE_CONTENT_TYPES: Readonly<Record<ImageFormat, string>> = Object.freeze({
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  heif: "image/heif",
  gif: "image/gif",
});

/** How many leading bytes callers should pass: enough to get past a large EXIF/ICC segment. */
export const SNIFF_HEAD_BYTES = 256 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const AVIF_BRANDS = new Set(["avif", "avis"]);
const HEIF_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]);
/** Generic HEIF still/sequence brands: the codec is told by the compatible brands. */
const GENERIC_HEIF_BRANDS = new Set(["mif1", "msf1", "miaf"]);

function startsWith(head: Buffer, bytes: readonly number[], offset = 0): boolean {
  if (head.length < offset + bytes.length) return false;
  return bytes.every((byte, i) => head[offset + i] === byte);
}

function ascii(head: Buffer, start: number, end: number): string {
  return head.toString("latin1", start, end);
}

/** The brands of an ISO-BMFF `ftyp` box (major first), or null when there is none. */
function ftypBrands(head: Buffer): string[] | null {
  if (head.length < 16 || ascii(head, 4, 8) !== "ftyp") return null;
  const boxSize = head.readUInt32BE(0);
  if (boxSize < 16 || boxSize > 4096) return null;
  const end = Math.min(boxSize, head.length);
  const brands = [ascii(head, 8, 12)];
  // Bytes 12..16 are the minor version, compatible brands follow in 4-byte steps.
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(head, offset, offset + 4));
  return brands;
}

function sniffIsoBmff(head: Buffer): "avif" | "heif" | null {
  const brands = ftypBrands(head);
  if (!brands) return null;
  const [major] = brands;
  if (AVIF_BRANDS.has(major!)) return "avif";
  if (HEIF_BRANDS.has(major!)) return "heif";
  if (!brands.some((brand) => GENERIC_HEIF_BRANDS.has(brand) || AVIF_BRANDS.has(brand))) return null;
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return "avif";
  // A MIAF/HEIF still image without an AVIF brand: HEVC or another codec; the decoder decides.
  return "heif";
}

/**
 * The image format told by magic bytes, or null for anything else (HTML, PDF, SVG, MP4, text).
 * Only formats we are willing to decode are recognised; SVG is deliberately not one of them.
 */
export function sniffImageFormat(head: Buffer): ImageFormat | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(head, PNG_SIGNATURE)) return "png";
  if (head.length >= 12 && ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return "webp";
  if (head.length >= 6 && (ascii(head, 0, 6) === "GIF87a" || ascii(head, 0, 6) === "GIF89a")) return "gif";
  return sniffIsoBmff(head);
}

export interface DeclaredDimensions {
  width: number;
  height: number;
}

/** SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegDimensions(head: Buffer): DeclaredDimensions | null {
  let offset = 2;
  while (offset + 4 <= head.length) {
    if (head[offset] !== 0xff) return null;
    const marker = head[offset + 1]!;
    // Fill bytes: any number of 0xFF may precede a marker.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    // Stand-alone markers without a length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null;
    const length = head.readUInt16BE(offset + 2);
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (offset + 9 > head.length) return null;
      return { height: head.readUInt16BE(offset + 5), width: head.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return null;
}

function pngDimensions(head: Buffer): DeclaredDimensions | null {
  if (head.length < 24 || ascii(head, 12, 16) !== "IHDR") return null;
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

function webpDimensions(head: Buffer): DeclaredDimensions | null {
  if (head.length < 30) return null;
  const chunk = ascii(head, 12, 16);
  if (chunk === "VP8X") {
    return { width: 1 + head.readUIntLE(24, 3), height: 1 + head.readUIntLE(27, 3) };
  }
  if (chunk === "VP8L") {
    if (head[20] !== 0x2f) return null;
    const bits = head.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === "VP8 ") {
    // Key frame start code 9D 01 2A, then 14-bit width and height (top 2 bits are scaling).
    if (!startsWith(head, [0x9d, 0x01, 0x2a], 23)) return null;
    return { width: head.readUInt16LE(26) & 0x3fff, height: head.readUInt16LE(28) & 0x3fff };
  }
  return null;
}

function gifDimensions(head: Buffer): DeclaredDimensions | null {
  if (head.length < 10) return null;
  return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
}

/**
 * HEIF/AVIF sizes live in `ispe` properties inside `meta`; a file may hold several (thumbnail,
 * grid tiles, the primary image), so the largest one is the one that matters for a pixel limit.
 */
function ispeDimensions(head: Buffer): DeclaredDimensions | null {
  let best: DeclaredDimensions | null = null;
  for (let at = head.indexOf("ispe", 0, "latin1"); at >= 4; at = head.indexOf("ispe", at + 4, "latin1")) {
    // box: size(4) 'ispe'(4) version+flags(4) width(4) height(4)
    if (at + 16 > head.length) break;
    const width = head.readUInt32BE(at + 8);
    const height = head.readUInt32BE(at + 12);
    if (!best || width * height > best.width * best.height) best = { width, height };
  }
  return best;
}

/**
 * Width and height as declared by the file header (before EXIF orientation), without decoding.
 * Null when the format is unknown or the header is not within `head`.
 */
export function readDeclaredDimensions(head: Buffer): DeclaredDimensions | null {
  switch (sniffImageFormat(head)) {
    case "jpeg":
      return jpegDimensions(head);
    case "png":
      return pngDimensions(head);
    case "webp":
      return webpDimensions(head);
    case "gif":
      return gifDimensions(head);
    case "avif":
    case "heif":
      return ispeDimensions(head);
    default:
      return null;
  }
}
