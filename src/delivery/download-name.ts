import slugify from "@sindresorhus/slugify";

/**
 * File names for downloads, e.g. `12-ocean-drive-just-listed-16x9.mp4`: the street line of the
 * address (or the campaign's name), the template, the format, then the cut and rendition when
 * they are not the default. Slugify transliterates (`Église` → `eglise`) and keeps only
 * `[a-z0-9-]`, so the name is safe on every OS: no reserved characters, no trailing dot or
 * space, never a bare Windows device name (the format is always appended), and short.
 */
export interface DownloadNameParts {
  address: string | null;
  /** Used when there is no address. */
  campaignName: string;
  /** e.g. `JUST_LISTED`; absent while jobs have no template. */
  template?: string | null;
  /** e.g. `LANDSCAPE_16_9` → `16x9`. */
  aspectRatio: string;
  /** `UNBRANDED` adds `-mls` (the cut made for MLS video fields). */
  variant?: "BRANDED" | "UNBRANDED";
  /** A rendition, e.g. `720p`. */
  label?: string | null;
  extension: string;
}

/** Characters kept from the address or campaign name. */
const MAX_PLACE_LENGTH = 60;

const slug = (text: string): string => slugify(text, { decamelize: false });

/** `LANDSCAPE_16_9` → `16x9`; anything else → its slug. */
export function formatLabel(aspectRatio: string): string {
  const ratio = /(\d+)_(\d+)$/.exec(aspectRatio);
  return ratio ? `${ratio[1]}x${ratio[2]}` : slug(aspectRatio);
}

export function downloadFilename(parts: DownloadNameParts): string {
  // The street line is what people recognise; the rest of the address only makes names long.
  const street = parts.address?.split(/[,\n]/)[0]?.trim() ?? "";
  const place = trimSlug(slug(street) || slug(parts.campaignName), MAX_PLACE_LENGTH) || "property-video";
  const words = [
    place,
    parts.template ? slug(parts.template) : "",
    formatLabel(parts.aspectRatio),
    parts.variant === "UNBRANDED" ? "mls" : "",
    parts.label ? slug(parts.label) : "",
  ].filter((word) => word !== "");
  const extension = slug(parts.extension) || "bin";
  return `${words.join("-")}.${extension}`;
}

/** Cuts a slug to `max` characters at a hyphen where possible, never leaving one at the end. */
function trimSlug(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const hyphen = cut.lastIndexOf("-");
  return (hyphen > max / 2 ? cut.slice(0, hyphen) : cut).replace(/-+$/, "");
}

/** What a video's name is built from: the job's options and its campaign. */
export interface NamedVideoSource {
  options: { aspectRatio: string; template?: string | null };
  campaign: { name: string; address: string | null };
}

/** The download name of a job's video (or of one of its renditions, `label` e.g. `720p`). */
export function videoDownloadName(
  source: NamedVideoSource,
  extra: { variant?: "BRANDED" | "UNBRANDED"; label?: string | null; extension?: string } = {},
): string {
  return downloadFilename({
    address: source.campaign.address,
    campaignName: source.campaign.name,
    // Jobs gain a template with the listing-video work; until then there is none to name.
    template: source.options.template ?? null,
    aspectRatio: source.options.aspectRatio,
    variant: extra.variant,
    label: extra.label,
    extension: extra.extension ?? "mp4",
  });
}
