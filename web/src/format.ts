import { AspectRatio } from "./gql/graphql.js";

/** Display helpers shared by the pages (formatting only, no state). */

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 4 });

export function formatUsd(value: number): string {
  return usd.format(value);
}

export function formatPrice(price: number | null, currency: string): string | null {
  if (price === null) return null;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: 0 }).format(
      price,
    );
  } catch {
    return `${price} ${currency}`;
  }
}

/** `LANDSCAPE_16_9` → "Landscape 16 9"; enum values as words. */
export function humanize(value: string | null | undefined): string {
  if (!value) return "";
  const words = value.toLowerCase().replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function formatTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "";
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export const ASPECT_RATIOS = Object.values(AspectRatio);

const ASPECT_LABELS: Record<string, string> = {
  LANDSCAPE_16_9: "Landscape 16:9",
  PORTRAIT_9_16: "Portrait 9:16",
  SQUARE_1_1: "Square 1:1",
};

export function aspectLabel(value: string): string {
  return ASPECT_LABELS[value] ?? humanize(value);
}
