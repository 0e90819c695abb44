/**
 * The outro card (the last seconds, over the blurred last photo).
 * - Branded: the template's call to action, the agent's photo, name, brokerage, phone, email
 *   and licence, the logo, and a QR code for the listing URL.
 * - Unbranded (the MLS cut): the property facts of the title again, and nothing that names or
 *   reaches an agent — no name, brokerage, contact, licence, logo or QR code.
 * Landscape sets the QR code in a right-hand column; the narrow formats stack everything.
 */
import { rasteriseBrandImage } from "./brand-image.js";
import { gapRow, type Row, renderStack, stackHeight, stackText, textRow } from "./card-layout.js";
import { OUTRO_CALLS } from "./listing-format.js";
import {
  type OverlayImage,
  type OverlayLayer,
  overlayRegions,
  paletteOf,
  panelBackground,
  panelLayer,
  svgDocument,
  titleRows,
  unitOf,
} from "./overlay-layers.js";
import type { AgentSpec, OverlaySpec } from "./overlay-spec.js";
import { qrCodeSvg } from "./qr-code.js";
import { isLandscape, type Rect } from "./render-formats.js";

export type Cut = "branded" | "unbranded";

/** Whether the branded outro has anything the unbranded one must not show. */
export function hasBrandedOutro(spec: OverlaySpec): boolean {
  return Boolean(spec.agent || spec.brand?.logo || spec.listing.listingUrl);
}

/** The outro card for one cut. */
export async function outroLayer(spec: OverlaySpec, cut: Cut): Promise<OverlayLayer> {
  return cut === "branded" && hasBrandedOutro(spec)
    ? brandedOutro(spec, spec.agent ?? null)
    : unbrandedOutro(spec);
}

function centredBox(region: Rect, height: number): Rect {
  const h = Math.min(region.height, Math.ceil(height));
  return { x: region.x, y: region.y + Math.floor((region.height - h) / 2), width: region.width, height: h };
}

function unbrandedOutro(spec: OverlaySpec): OverlayLayer {
  const region = overlayRegions(spec.format).card;
  const u = unitOf(spec.format);
  const palette = paletteOf(spec);
  const pad = Math.round(56 * u);
  const rows = titleRows(spec, region.width - pad * 2, "center", u * 1.1, palette);
  const box = centredBox(region, stackHeight(rows) + pad * 2);
  return panelLayer("outro", box, rows, { pad, radius: 22 * u, palette });
}

function agentRows(agent: AgentSpec, width: number, u: number, fill: { text: string; muted: string }): Row[] {
  const s = (px: number) => Math.round(px * u);
  const rows: Row[] = [
    textRow(agent.name, {
      width,
      weight: "bold",
      maxSize: s(54),
      minSize: s(30),
      maxLines: 2,
      fill: fill.text,
    }),
  ];
  const line = (
    text: string | null | undefined,
    weight: "medium" | "semibold" | "regular",
    max: number,
    colour = fill.text,
  ) => {
    if (!text?.trim()) return;
    rows.push(
      gapRow(s(8)),
      textRow(text, { width, weight, maxSize: s(max), minSize: s(20), maxLines: 1, fill: colour }),
    );
  };
  line(agent.brokerage, "medium", 32);
  line(agent.phone, "semibold", 42);
  line(agent.email, "regular", 32);
  line(agent.licenseNumber ? `Lic. # ${agent.licenseNumber}` : null, "regular", 26, fill.muted);
  return rows;
}

/** The branded card measured at a density `k` (1: the designed sizes); drawn by brandedOutro. */
export interface BrandedOutroMeasure {
  k: number;
  pad: number;
  /** Width of the main column (everything but the QR column in 16:9). */
  main: number;
  qrColumn: number;
  columnGap: number;
  logoBox: { width: number; height: number } | null;
  call: Row;
  photoSize: number;
  textX: number;
  details: Row[];
  agentHeight: number;
  mainHeight: number;
  qrCaption: Row | null;
  qrSize: number;
  qrHeight: number;
  contentHeight: number;
  /** Gaps between blocks. */
  gap: number;
  fits: boolean;
}

/**
 * Measures the branded card; when its content is taller than the card region (a two-line name,
 * a long call to action, a logo and a QR code in a 9:16 frame), everything is measured again
 * 10 % smaller, down to 60 %, so the card never overflows its panel.
 */
export function measureBrandedOutro(spec: OverlaySpec, agent: AgentSpec | null): BrandedOutroMeasure {
  let measure = measureAt(spec, agent, 1);
  for (let k = 0.9; !measure.fits && k >= 0.6 - 1e-9; k -= 0.1) measure = measureAt(spec, agent, k);
  return measure;
}

function measureAt(spec: OverlaySpec, agent: AgentSpec | null, k: number): BrandedOutroMeasure {
  const region = overlayRegions(spec.format).card;
  const u = unitOf(spec.format) * k;
  const s = (px: number) => Math.round(px * u);
  const palette = paletteOf(spec);
  const wide = isLandscape(spec.format);
  const pad = s(48);
  const gap = s(28);
  const inner = region.width - pad * 2;
  const qrColumn = wide && spec.listing.listingUrl ? Math.round(inner * 0.3) : 0;
  const columnGap = qrColumn ? s(48) : 0;
  const main = inner - qrColumn - columnGap;
  const logoBox = spec.brand?.logo ? { width: Math.round(main * (wide ? 0.5 : 0.6)), height: s(110) } : null;
  const call = textRow(OUTRO_CALLS[spec.template], {
    width: main,
    weight: "semibold",
    maxSize: s(38),
    minSize: s(24),
    maxLines: 2,
    fill: palette.accent,
    align: wide ? "left" : "center",
  });
  const photoSize = agent?.photo ? s(wide ? 230 : 190) : 0;
  const textX = photoSize ? photoSize + s(32) : 0;
  const details = agent ? agentRows(agent, main - textX, u, palette) : [];
  const agentHeight = Math.max(photoSize, stackHeight(details));
  const qrCaption = spec.listing.listingUrl
    ? textRow("Scan for details", {
        width: wide ? qrColumn : main,
        weight: "medium",
        maxSize: s(28),
        minSize: s(20),
        maxLines: 1,
        fill: palette.text,
        align: "center",
      })
    : null;
  const mainHeight = (logoBox ? logoBox.height + gap : 0) + call.height + gap + agentHeight;
  let qrSize = 0;
  if (qrCaption) {
    const room = region.height - pad * 2 - (wide ? 0 : mainHeight + s(32)) - qrCaption.height - s(10);
    // below ~180 px at 1080p a phone struggles to read the code through video compression
    qrSize = Math.floor(
      Math.max(
        Math.round(180 * unitOf(spec.format)),
        Math.min(wide ? Math.min(qrColumn, s(380)) : s(300), room),
      ),
    );
  }
  const qrHeight = qrCaption ? qrSize + s(10) + qrCaption.height : 0;
  const contentHeight = wide
    ? Math.max(mainHeight, qrHeight)
    : mainHeight + (qrCaption ? s(32) + qrHeight : 0);
  const fits = contentHeight + pad * 2 <= region.height;
  return {
    k,
    pad,
    main,
    qrColumn,
    columnGap,
    logoBox,
    call,
    photoSize,
    textX,
    details,
    agentHeight,
    mainHeight,
    qrCaption,
    qrSize,
    qrHeight,
    contentHeight,
    gap,
    fits,
  };
}

async function brandedOutro(spec: OverlaySpec, agent: AgentSpec | null): Promise<OverlayLayer> {
  const region = overlayRegions(spec.format).card;
  const u = unitOf(spec.format);
  const palette = paletteOf(spec);
  const wide = isLandscape(spec.format);
  const m = measureBrandedOutro(spec, agent);
  const s = (px: number) => Math.round(px * u * m.k);
  const { pad, main, details, agentHeight, qrCaption, qrSize } = m;
  const images: OverlayImage[] = [];
  const svgParts: string[] = [];
  const text: string[] = [];
  const box = centredBox(region, m.contentHeight + pad * 2);

  svgParts.push(panelBackground(box, 22 * u, palette, 0.92));
  let y = pad + (wide ? Math.round((m.contentHeight - m.mainHeight) / 2) : 0);
  if (m.logoBox && spec.brand?.logo) {
    const logo = await rasteriseBrandImage(spec.brand.logo, {
      ...m.logoBox,
      fit: "contain",
      gravity: wide ? "left" : "centre",
    });
    images.push({
      input: logo,
      left: wide ? pad : pad + Math.round((main - m.logoBox.width) / 2),
      top: Math.round(y),
    });
    y += m.logoBox.height + m.gap;
  }
  svgParts.push(m.call.render(pad, y));
  text.push(m.call.text);
  y += m.call.height + m.gap;
  // the photo and the details side by side, the block centred in the narrow formats
  const detailsWidth = Math.max(0, ...details.map((row) => row.contentWidth));
  const blockX = pad + (wide ? 0 : Math.max(0, Math.round((main - m.textX - detailsWidth) / 2)));
  if (agent?.photo) {
    const photo = await rasteriseBrandImage(agent.photo, {
      width: m.photoSize,
      height: m.photoSize,
      fit: "cover",
      circle: true,
    });
    images.push({ input: photo, left: blockX, top: Math.round(y + (agentHeight - m.photoSize) / 2) });
  }
  svgParts.push(
    renderStack(details, blockX + m.textX, y + Math.round((agentHeight - stackHeight(details)) / 2)),
  );
  text.push(...stackText(details));
  if (qrCaption && spec.listing.listingUrl) {
    const qrX = wide
      ? pad + main + m.columnGap + Math.round((m.qrColumn - qrSize) / 2)
      : pad + Math.round((main - qrSize) / 2);
    const qrY = wide ? pad + Math.round((m.contentHeight - m.qrHeight) / 2) : y + agentHeight + s(32);
    svgParts.push(qrCodeSvg(spec.listing.listingUrl, { x: qrX, y: qrY, size: qrSize }).markup);
    svgParts.push(qrCaption.render(wide ? pad + main + m.columnGap : pad, qrY + qrSize + s(10)));
    text.push(qrCaption.text);
  }
  return { kind: "outro", box, svg: svgDocument(box.width, box.height, svgParts.join("")), images, text };
}
