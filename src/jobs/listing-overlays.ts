/**
 * The listing video's overlays for the pipeline's handlers: the job's OverlaySpec built from its
 * campaign, tenant and options (src/render does the drawing), the shared layers a scene's clip
 * carries (rasterised once, handed to the provider so they ride on the clip's one encode), and
 * the outro's length, which the score must cover too.
 */
import { buffer } from "node:stream/consumers";
import type { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import type { SceneOverlayColumns } from "../db/entities/scene.entity.js";
import type { VideoJobOptions } from "../db/entities/video-job.entity.js";
import type { AspectRatio, SceneType } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import type { ClipOverlay } from "../providers/types.js";
import { DEFAULT_COMPOSITION, sceneLayers } from "../render/composition-plan.js";
import type { LayerDrawer } from "../render/layer-drawing.js";
import type { VideoTemplate } from "../render/listing-format.js";
import { rasteriseLayer } from "../render/overlay-raster.js";
import type { OverlaySpec } from "../render/overlay-spec.js";
import type { CaptionCue } from "../render/webvtt.js";
import type { PipelineDeps } from "./pipeline-deps.js";

export type ListingOverlayDeps = Pick<PipelineDeps, "campaigns" | "tenants" | "assets" | "media">;

/** Seconds the outro card adds after the last scene (0 for a plain job made before overlays). */
export function outroSecondsOf(options: VideoJobOptions): number {
  return options.overlays ? DEFAULT_COMPOSITION.outroSeconds : 0;
}

/** The video's length: the scenes, then the outro. */
export function videoSecondsOf(options: VideoJobOptions): number {
  return options.sceneCount * options.secondsPerScene + outroSecondsOf(options);
}

/** The bytes of a READY logo or agent photo of the tenant (null when it is gone or not one). */
async function brandImage(
  deps: ListingOverlayDeps,
  tenantId: string,
  assetId: string | null | undefined,
  purpose: "LOGO" | "AGENT_PHOTO",
): Promise<Buffer | null> {
  if (!assetId) return null;
  const [asset] = await deps.assets.byIds(tenantId, [assetId]);
  if (!asset?.mediaId || asset.status !== "READY" || asset.purpose !== purpose) return null;
  const media = await deps.media.byId(tenantId, asset.mediaId);
  return media ? await buffer(deps.media.openRange(media)) : null;
}

/**
 * What the job's overlays say. `images`: also load the logo and the agent's photo (only the
 * outro shows them). The campaign is read now, so a video shows the facts as they are when it
 * is rendered (a re-rendered scene or re-assembly picks up corrections).
 */
export async function overlaySpecOf(
  deps: ListingOverlayDeps,
  job: VideoJobEntity,
  options: { images: boolean },
): Promise<OverlaySpec> {
  const campaign = await deps.campaigns.byId(job.tenantId, job.campaignId);
  if (!campaign) throw new AppError("NOT_FOUND", "Campaign not found");
  const tenant = await deps.tenants.byId(job.tenantId);
  const { agent, brand } = campaign;
  const [logo, photo] = options.images
    ? await Promise.all([
        brandImage(deps, job.tenantId, brand.logoAssetId, "LOGO"),
        brandImage(deps, job.tenantId, agent?.photoAssetId, "AGENT_PHOTO"),
      ])
    : [null, null];
  const { openHouse } = job.options;
  return {
    format: job.options.aspectRatio as AspectRatio,
    template: (job.options.template ?? "JUST_LISTED") as VideoTemplate,
    locale: campaign.locale,
    timeZone: campaign.timeZone ?? "UTC",
    listing: {
      // the title needs a line for the place; a campaign without an address shows its name
      address: campaign.address?.trim() || campaign.name,
      price: campaign.price,
      previousPrice: job.options.previousPrice ?? null,
      currency: campaign.currency,
      bedrooms: campaign.bedrooms,
      bathrooms: campaign.bathrooms,
      areaSqft: campaign.areaSqft,
      listingUrl: campaign.listingUrl,
    },
    agent: agent ? { ...agent, photo } : null,
    brand: { primaryColor: brand.primaryColor, secondaryColor: brand.secondaryColor, logo },
    openHouse: openHouse
      ? { startsAt: new Date(openHouse.startsAt), endsAt: new Date(openHouse.endsAt) }
      : null,
    aiDisclosureText: tenant?.aiDisclosureText ?? null,
  };
}

/**
 * The layers both cuts share on one scene (the title on the first, a room caption on the
 * others, the disclosure on a generative one), rasterised for the renderer, and what they say
 * (stored on the scene: the captions track and `aiDisclosure` come from it).
 */
export async function sceneOverlays(
  spec: OverlaySpec,
  scene: Pick<SceneEntity, "index" | "sceneType">,
  job: VideoJobEntity,
  generative: boolean,
  roomType: string | null,
  drawLayers: LayerDrawer,
): Promise<{ clip: ClipOverlay[]; shown: SceneOverlayColumns[] }> {
  const planned = sceneLayers(
    {
      seconds: job.options.secondsPerScene,
      sceneType: scene.sceneType as SceneType,
      roomType: roomType as never,
      aiGenerated: generative,
    },
    scene.index,
    { captions: job.options.captions !== false },
  );
  const clip: ClipOverlay[] = [];
  const shown: SceneOverlayColumns[] = [];
  const { layers } = await drawLayers({ spec, refs: planned.map((layer) => layer.ref), outros: [] });
  for (const [index, layer] of planned.entries()) {
    const drawn = layers[index]!;
    clip.push({
      png: await rasteriseLayer(drawn),
      x: drawn.box.x,
      y: drawn.box.y,
      start: layer.start,
      end: layer.end,
      fadeSeconds: layer.fadeSeconds,
    });
    shown.push({ kind: layer.ref.kind, start: layer.start, end: layer.end, lines: drawn.text });
  }
  return { clip, shown };
}

/** What the clips show, on the video's timeline (scenes play back to back). */
export function clipCues(scenes: readonly SceneEntity[], secondsPerScene: number): CaptionCue[] {
  return scenes.flatMap((scene) =>
    scene.overlays.map((overlay) => ({
      start: scene.index * secondsPerScene + overlay.start,
      end: scene.index * secondsPerScene + overlay.end,
      lines: overlay.lines,
    })),
  );
}

/** The disclosure label the clips showed, or null when no scene came from a generative model. */
export function shownDisclosure(scenes: readonly SceneEntity[]): string | null {
  for (const scene of scenes) {
    const label = scene.overlays.find((overlay) => overlay.kind === "disclosure");
    if (label) return label.lines.join(" ");
  }
  return null;
}
