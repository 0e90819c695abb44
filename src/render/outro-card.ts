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

async function brandedOutro(spec: OverlaySpec, agent: AgentSpec | null): Promise<OverlayLayer> {
  const region = overlayRegions(spec.format).card;
  const u = unitOf(spec.format);
  const s = (px: number) => Math.round(px * u);
  const palette = paletteOf(spec);
  const wide = isLandscape(spec.format);
  const pad = s(48);
  const inner = region.width - pad * 2;
  const qrColumn = wide && spec.listing.listingUrl ? Math.round(inner * 0.3) : 0;
  const columnGap = qrColumn ? s(48) : 0;
  const main = inner - qrColumn - columnGap;
  const images: OverlayImage[] = [];
  const svgParts: string[] = [];
  const text: string[] = [];

  // measure first, draw second: the card is centred on its content
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
  const mainHeight = (logoBox ? logoBox.height + s(28) : 0) + call.height + s(28) + agentHeight;
  let qrSize = 0;
  if (qrCaption) {
    const room = region.height - pad * 2 - (wide ? 0 : mainHeight + s(32)) - qrCaption.height - s(10);
    qrSize = Math.max(s(180), Math.min(wide ? qrColumn : s(300), room));
  }
  const qrHeight = qrCaption ? qrSize + s(10) + qrCaption.height : 0;
  const contentHeight = wide
    ? Math.max(mainHeight, qrHeight)
    : mainHeight + (qrCaption ? s(32) + qrHeight : 0);
  const box = centredBox(region, contentHeight + pad * 2);

  svgParts.push(panelBackground(box, 22 * u, palette, 0.92));
  let y = pad + (wide ? Math.round((contentHeight - mainHeight) / 2) : 0);
  if (logoBox && spec.brand?.logo) {
    const logo = await rasteriseBrandImage(spec.brand.logo, {
      ...logoBox,
      fit: "contain",
      gravity: wide ? "left" : "centre",
    });
    images.push({
      input: logo,
      left: wide ? pad : pad + Math.round((main - logoBox.width) / 2),
      top: Math.round(y),
    });
    y += logoBox.height + s(28);
  }
  svgParts.push(call.render(pad, y));
  text.push(call.text);
  y += call.height + s(28);
  // the photo and the details side by side, the block centred in the narrow formats
  const detailsWidth = Math.max(0, ...details.map((row) => row.contentWidth));
  const blockX = pad + (wide ? 0 : Math.max(0, Math.round((main - textX - detailsWidth) / 2)));
  if (agent?.photo) {
    const photo = await rasteriseBrandImage(agent.photo, {
      width: photoSize,
      height: photoSize,
      fit: "cover",
      circle: true,
    });
    images.push({ input: photo, left: blockX, top: Math.round(y + (agentHeight - photoSize) / 2) });
  }
  svgParts.push(
    renderStack(details, blockX + textX, y + Math.round((agentHeight - stackHeight(details)) / 2)),
  );
  text.push(...stackText(details));
  if (qrCaption && spec.listing.listingUrl) {
    const qrX = wide
      ? pad + main + columnGap + Math.round((qrColumn - qrSize) / 2)
      : pad + Math.round((main - qrSize) / 2);
    const qrY = wide ? pad + Math.round((contentHeight - qrHeight) / 2) : y + agentHeight + s(32);
    svgParts.push(qrCodeSvg(spec.listing.listingUrl, { x: qrX, y: qrY, size: qrSize }).markup);
    svgParts.push(qrCaption.render(wide ? pad + main + columnGap : pad, qrY + qrSize + s(10)));
    text.push(qrCaption.text);
  }
  return { kind: "outro", box, svg: svgDocument(box.width, box.height, svgParts.join("")), images, text };
}
