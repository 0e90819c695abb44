/**
 * What the overlays of one video say: the listing, the agent, the brand, the template and
 * where the viewer is (locale, time zone). `titleContent` turns it into the strings every
 * layer, the unbranded outro and the captions file share.
 */
import { badInput } from "../errors.js";
import {
  DEFAULT_AI_DISCLOSURE,
  formatFacts,
  formatOpenHouse,
  formatPrice,
  HEADLINES,
  type OpenHouseTimes,
  SHOWS_PRICE,
  type VideoTemplate,
} from "./listing-format.js";
import type { RenderFormat } from "./render-formats.js";

export interface ListingSpec {
  address: string;
  /** Whole currency units (the campaign's decimal string or a number). */
  price?: string | number | null;
  /** PRICE_REDUCED: the price before the reduction. */
  previousPrice?: string | number | null;
  currency: string;
  bedrooms?: number | null;
  bathrooms?: number | string | null;
  areaSqft?: number | null;
  listingUrl?: string | null;
}

export interface AgentSpec {
  name: string;
  phone?: string | null;
  email?: string | null;
  brokerage?: string | null;
  licenseNumber?: string | null;
  /** Photo bytes (PNG, JPEG, WebP or SVG). */
  photo?: Buffer | null;
}

export interface BrandSpec {
  primaryColor?: string | null;
  secondaryColor?: string | null;
  /** Logo bytes (PNG, JPEG, WebP or SVG). */
  logo?: Buffer | null;
}

export interface OverlaySpec {
  format: RenderFormat;
  template: VideoTemplate;
  /** BCP 47, e.g. "en-US"; numbers, currency and dates are formatted for it. */
  locale: string;
  /** IANA zone of the property, e.g. "America/Los_Angeles" (open-house times). */
  timeZone: string;
  listing: ListingSpec;
  agent?: AgentSpec | null;
  brand?: BrandSpec | null;
  openHouse?: OpenHouseTimes | null;
  /** The label for generative scenes; default DEFAULT_AI_DISCLOSURE. */
  aiDisclosureText?: string | null;
}

export interface TitleContent {
  headline: string;
  /** OPEN_HOUSE: "Sat, Mar 14, 1:00 – 4:00 PM PDT". */
  openHouse: string | null;
  address: string;
  /** PRICE_REDUCED: the old price, shown struck through. */
  previousPrice: string | null;
  price: string | null;
  facts: string | null;
}

const hasValue = (value: string | number | null | undefined): value is string | number =>
  value !== null && value !== undefined && value !== "";

export function titleContent(spec: OverlaySpec): TitleContent {
  const { listing, template, locale } = spec;
  if (!listing.address.trim()) throw badInput("the listing needs an address for its title");
  const showsPrice = SHOWS_PRICE[template];
  const price =
    showsPrice && hasValue(listing.price) ? formatPrice(listing.price, listing.currency, locale) : null;
  let previousPrice: string | null = null;
  if (template === "PRICE_REDUCED") {
    if (!hasValue(listing.previousPrice) || !hasValue(listing.price)) {
      throw badInput("PRICE_REDUCED needs the previous and the new price");
    }
    if (Number(listing.previousPrice) <= Number(listing.price)) {
      throw badInput("PRICE_REDUCED needs a previous price above the new one");
    }
    previousPrice = formatPrice(listing.previousPrice, listing.currency, locale);
  }
  let openHouse: string | null = null;
  if (template === "OPEN_HOUSE") {
    if (!spec.openHouse) throw badInput("OPEN_HOUSE needs the open house's start and end");
    openHouse = formatOpenHouse(spec.openHouse, locale, spec.timeZone);
  }
  return {
    headline: HEADLINES[template],
    openHouse,
    address: listing.address,
    previousPrice,
    price,
    facts: formatFacts(listing, locale, listing.currency),
  };
}

export function disclosureText(spec: Pick<OverlaySpec, "aiDisclosureText">): string {
  const text = spec.aiDisclosureText?.trim();
  return text ? text : DEFAULT_AI_DISCLOSURE;
}
