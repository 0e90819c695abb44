/**
 * The listing's QR code as SVG, drawn from the `qrcode` package's module matrix: dark modules
 * on white with the standard 4-module quiet zone, whatever the brand colours (phone cameras
 * expect dark on light).
 */
import QRCode from "qrcode";
import { badInput } from "../errors.js";
import { round } from "./text-layout.js";

const QUIET_ZONE = 4;
const MAX_URL_LENGTH = 1024;

/** Accepts an absolute http(s) URL without credentials; returns it normalised. */
export function checkListingUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput("listingUrl is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw badInput("listingUrl must be http(s)");
  if (url.username || url.password) throw badInput("listingUrl must not carry credentials");
  const text = url.toString();
  if (text.length > MAX_URL_LENGTH) throw badInput(`listingUrl is longer than ${MAX_URL_LENGTH} characters`);
  return text;
}

export interface QrSvg {
  /** An SVG group drawing the code, quiet zone included, in a size×size square at (x, y). */
  markup: string;
  /** Modules per side, quiet zone included. */
  modules: number;
}

/**
 * Error correction Q (25 % recoverable): the code goes through H.264 and may be filmed off a
 * screen. A code needs ≥ 3 px per module to survive; callers size it well above that.
 */
export function qrCodeSvg(url: string, at: { x: number; y: number; size: number }): QrSvg {
  const code = QRCode.create(checkListingUrl(url), { errorCorrectionLevel: "Q" });
  const { size: count, data } = code.modules;
  const modules = count + QUIET_ZONE * 2;
  const unit = at.size / modules;
  let path = "";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (data[row * count + col]) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const markup =
    `<g transform="translate(${round(at.x)} ${round(at.y)}) scale(${round(unit, 5)})">` +
    `<rect width="${modules}" height="${modules}" fill="#ffffff"/>` +
    `<path d="${path}" fill="#000000" shape-rendering="crispEdges"/></g>`;
  return { markup, modules };
}
