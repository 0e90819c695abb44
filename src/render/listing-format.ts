/**
 * The words and numbers that go on screen: prices in the listing's currency, beds · baths ·
 * area, open-house times in the campaign's locale and time zone, room captions, headlines.
 * Numbers, currencies and dates are formatted by Intl for the locale; the words themselves
 * (headlines, "beds", room names) are English for now.
 */

import type { RoomType, SceneType } from "../domain/vocabulary.js";
import { badInput } from "../errors.js";

export const VIDEO_TEMPLATES = [
  "JUST_LISTED",
  "OPEN_HOUSE",
  "PRICE_REDUCED",
  "UNDER_CONTRACT",
  "JUST_SOLD",
] as const;
export type VideoTemplate = (typeof VIDEO_TEMPLATES)[number];

export const DEFAULT_AI_DISCLOSURE = "Virtually enhanced — AI-generated motion";

export const HEADLINES: Readonly<Record<VideoTemplate, string>> = Object.freeze({
  JUST_LISTED: "Just listed",
  OPEN_HOUSE: "Open house",
  PRICE_REDUCED: "Price reduced",
  UNDER_CONTRACT: "Under contract",
  JUST_SOLD: "Just sold",
});

/**
 * Whether the template shows the asking price: once a home is under contract or sold the list
 * price is no longer the news (and the sale price is often confidential until it closes).
 */
export const SHOWS_PRICE: Readonly<Record<VideoTemplate, boolean>> = Object.freeze({
  JUST_LISTED: true,
  OPEN_HOUSE: true,
  PRICE_REDUCED: true,
  UNDER_CONTRACT: false,
  JUST_SOLD: false,
});

/** What the branded outro invites the viewer to do. */
export const OUTRO_CALLS: Readonly<Record<VideoTemplate, string>> = Object.freeze({
  JUST_LISTED: "Book a private showing",
  OPEN_HOUSE: "Come see it in person",
  PRICE_REDUCED: "Book a private showing",
  UNDER_CONTRACT: "Thinking of selling? Let's talk",
  JUST_SOLD: "Thinking of selling? Let's talk",
});

/** Checks a BCP 47 locale tag; returns its canonical form. */
export function canonicalLocale(locale: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(locale);
    if (!canonical) throw new RangeError("empty");
    return canonical;
  } catch {
    throw badInput(`"${locale}" is not a valid locale`);
  }
}

/** Checks an IANA time zone name. */
export function checkTimeZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw badInput(`"${timeZone}" is not an IANA time zone`);
  }
}

function checkCurrency(currency: string): string {
  const code = currency.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw badInput(`"${currency}" is not an ISO 4217 currency code`);
  return code;
}

/**
 * A price as a string or number of whole currency units (the database keeps a decimal string),
 * e.g. ("123456789", "USD", "en-US") → "$123,456,789". Prices are shown without cents.
 */
export function formatPrice(amount: string | number, currency: string, locale: string): string {
  const value = typeof amount === "number" ? amount : Number(amount);
  if (!Number.isFinite(value) || value < 0 || value >= 1e15) throw badInput(`"${amount}" is not a price`);
  return new Intl.NumberFormat(canonicalLocale(locale), {
    style: "currency",
    currency: checkCurrency(currency),
    maximumFractionDigits: 0,
    minimumFractionDigits: 0,
  }).format(Math.round(value));
}

export type AreaUnit = "sqft" | "m2";

/** Regions whose listings are measured in square feet (real-estate practice, not only law). */
const SQFT_REGIONS = new Set(["US", "CA", "GB", "LR", "MM"]);
const SQFT_CURRENCIES = new Set(["USD", "CAD", "GBP"]);

/**
 * Square feet where listings are advertised in them (the US, Canada, the UK, Liberia,
 * Myanmar), square metres elsewhere. The locale's region decides; a locale without one
 * ("en", "fr") falls back to the currency (USD/CAD/GBP → sq ft).
 */
export function areaUnitFor(locale: string, currency: string): AreaUnit {
  const region = new Intl.Locale(canonicalLocale(locale)).region;
  if (region) return SQFT_REGIONS.has(region) ? "sqft" : "m2";
  return SQFT_CURRENCIES.has(currency.toUpperCase()) ? "sqft" : "m2";
}

const SQFT_TO_M2 = 0.09290304;

export interface PropertyFacts {
  bedrooms?: number | null;
  /** May be fractional (2.5: a half bath). */
  bathrooms?: number | string | null;
  areaSqft?: number | null;
}

/** "4 beds · 2.5 baths · 2,350 sq ft" (or "… · 218 m²"); null when there is nothing to say. */
export function formatFacts(facts: PropertyFacts, locale: string, currency: string): string | null {
  const tag = canonicalLocale(locale);
  const number = (value: number, digits = 0) =>
    new Intl.NumberFormat(tag, { maximumFractionDigits: digits }).format(value);
  const plural = new Intl.PluralRules("en-US");
  const parts: string[] = [];
  if (facts.bedrooms !== null && facts.bedrooms !== undefined && facts.bedrooms >= 0) {
    const beds = facts.bedrooms;
    parts.push(`${number(beds)} ${plural.select(beds) === "one" ? "bed" : "beds"}`);
  }
  const baths = facts.bathrooms === null || facts.bathrooms === undefined ? null : Number(facts.bathrooms);
  if (baths !== null && Number.isFinite(baths) && baths >= 0) {
    parts.push(`${number(baths, 1)} ${baths === 1 ? "bath" : "baths"}`);
  }
  if (facts.areaSqft !== null && facts.areaSqft !== undefined && facts.areaSqft > 0) {
    parts.push(
      areaUnitFor(locale, currency) === "sqft"
        ? `${number(facts.areaSqft)} sq ft`
        : `${number(Math.round(facts.areaSqft * SQFT_TO_M2))} m²`,
    );
  }
  return parts.length > 0 ? parts.join(" · ") : null;
}

export interface OpenHouseTimes {
  startsAt: Date;
  endsAt: Date;
}

/**
 * "Sat, Mar 14, 1:00 – 4:00 PM PDT": the range in the campaign's locale and time zone (the
 * viewer is expected to be where the house is), with the zone's short name so nobody guesses.
 */
export function formatOpenHouse(times: OpenHouseTimes, locale: string, timeZone: string): string {
  const { startsAt, endsAt } = times;
  if (!(startsAt instanceof Date) || Number.isNaN(startsAt.getTime()) || Number.isNaN(endsAt.getTime())) {
    throw badInput("open house times must be valid dates");
  }
  if (endsAt <= startsAt) throw badInput("an open house must end after it starts");
  const format = new Intl.DateTimeFormat(canonicalLocale(locale), {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone: checkTimeZone(timeZone),
    timeZoneName: "short",
  });
  return format.formatRange(startsAt, endsAt);
}

const SCENE_CAPTIONS: Readonly<Record<SceneType, string>> = Object.freeze({
  EXTERIOR: "Exterior",
  LIVING: "Living room",
  KITCHEN: "Kitchen",
  DINING: "Dining room",
  BEDROOM: "Primary bedroom",
  BATH: "Bathroom",
  OUTDOOR: "Outdoor living",
});

const ROOM_CAPTIONS: Partial<Readonly<Record<RoomType, string>>> = Object.freeze({
  POOL: "Pool",
  VIEW: "The view",
});

/**
 * The room caption of a scene. The plan's bedroom slot is the primary bedroom (the selector
 * picks the best bedroom photo); the outdoor slot says "Pool" or "The view" when the photo is
 * known to show one.
 */
export function roomCaption(sceneType: SceneType, roomType?: RoomType | null): string {
  if (sceneType === "OUTDOOR" && roomType && ROOM_CAPTIONS[roomType]) return ROOM_CAPTIONS[roomType]!;
  return SCENE_CAPTIONS[sceneType];
}
