/** A sample listing, agent and brand for the render tests and the overlays benchmark. */
import type { OverlaySpec } from "../../src/render/overlay-spec.js";

export const SAMPLE_LISTING_URL = "https://homes.example.com/l/1847-willow-creek";

export const SAMPLE_AGENT = Object.freeze({
  name: "Jordan Avery",
  phone: "(707) 555-0142",
  email: "jordan@seaside.example",
  brokerage: "Seaside Realty",
  licenseNumber: "01234567",
});

export const SAMPLE_LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100"><rect width="300" height="100" rx="12" fill="#fff"/><path d="M20 80 L60 20 L100 80 Z" fill="#c0392b"/></svg>`;

/** A 16:9 JUST_LISTED spec with every field set (photo and logo bytes added by the caller). */
export function sampleSpec(): OverlaySpec {
  return {
    format: "LANDSCAPE_16_9",
    template: "JUST_LISTED",
    locale: "en-US",
    timeZone: "America/Los_Angeles",
    listing: {
      address: "1847 Willow Creek Lane, Sonoma, CA 95476",
      price: "1250000.00",
      currency: "USD",
      bedrooms: 4,
      bathrooms: "3",
      areaSqft: 2850,
      listingUrl: SAMPLE_LISTING_URL,
    },
    agent: { ...SAMPLE_AGENT },
    brand: { primaryColor: "#0e3b43", secondaryColor: "#f2b705", logo: Buffer.from(SAMPLE_LOGO_SVG) },
  };
}
