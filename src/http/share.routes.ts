import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Services } from "../container.js";
import { REFUSAL_CACHE_CONTROL } from "../delivery/cache-policy.js";
import { hlsMasterUrl } from "../delivery/delivery-urls.js";
import { videoDownloadName } from "../delivery/download-name.js";
import type { ShareLookup, ShareVariant } from "../delivery/share-link.service.js";
import {
  agentOf,
  GONE_PAGE,
  NOT_FOUND_PAGE,
  PLAYER_SCRIPT,
  renderSharePage,
  type ShareMediaUrls,
} from "../delivery/share-page.js";

/** Share media URLs live 15–25 minutes (aligned to 10 minutes, so a CDN sees few distinct URLs). */
export const SHARE_URL_LIFETIME_SECONDS = 15 * 60;
/**
 * Everything the page loads comes from our origin; media by signed URL on the same origin.
 * `blob:` is how hls.js hands MediaSource to the <video>.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const require = createRequire(import.meta.url);
const HLS_VERSION = (require("hls.js/package.json") as { version: string }).version;
const HLS_SCRIPT = readFileSync(require.resolve("hls.js/dist/hls.light.min.js"));
const PLAYER_HASH = createHash("sha256").update(PLAYER_SCRIPT).digest("hex").slice(0, 12);
/** Versioned names: each can be cached for a year. */
export const SHARE_ASSETS = {
  hls: `/s/assets/hls-${HLS_VERSION}.light.min.js`,
  player: `/s/assets/share-player-${PLAYER_HASH}.js`,
};
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The public side of share links (no key): the page `/s/:slug`, fresh media URLs for it,
 * view and watch beacons, and the page's two scripts.
 */
export async function registerShareRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const { services } = deps;
  const { config } = services;

  const mediaUrls = async (lookup: Extract<ShareLookup, { state: "active" }>): Promise<ShareMediaUrls> => {
    const { job, campaign, link, videoMediaId } = lookup;
    const tenantId = job.tenantId;
    const renditions = await services.renditions.bySources(tenantId, [videoMediaId]);
    const filename = videoDownloadName(
      { options: job.options, campaign },
      { variant: link.variant as ShareVariant },
    );
    return {
      posterUrl: job.posterMediaId
        ? services.mediaUrl(tenantId, job.posterMediaId, "share", SHARE_URL_LIFETIME_SECONDS)
        : null,
      mp4Url: services.mediaUrl(tenantId, videoMediaId, "share", SHARE_URL_LIFETIME_SECONDS, filename),
      hlsUrl:
        renditions.length === 0
          ? null
          : hlsMasterUrl(
              { tokens: services.tokens, publicBaseUrl: config.publicBaseUrl },
              { tenantId, mediaId: videoMediaId, purpose: "share" },
              SHARE_URL_LIFETIME_SECONDS,
            ),
      // Well before the earliest possible expiry.
      refreshAfterSeconds: SHARE_URL_LIFETIME_SECONDS - 120,
    };
  };

  const plain = (reply: FastifyReply, status: number, body: string) =>
    reply
      .code(status)
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", REFUSAL_CACHE_CONTROL)
      .header("content-security-policy", "default-src 'none'")
      .send(body);

  app.get<{ Params: { slug: string } }>("/s/:slug", async (request, reply) => {
    const lookup = await services.shareLinks.lookup(request.params.slug);
    if (lookup.state === "missing") return await plain(reply, 404, NOT_FOUND_PAGE);
    if (lookup.state === "gone") return await plain(reply, 410, GONE_PAGE);
    const { job, campaign, link } = lookup;
    const html = renderSharePage({
      slug: link.slug,
      pageUrl: `${config.publicBaseUrl}/s/${link.slug}`,
      campaign,
      media: await mediaUrls(lookup),
      width: job.width ?? 1920,
      height: job.height ?? 1080,
      durationSeconds: job.durationSeconds ?? 0,
      agent: link.variant === "BRANDED" ? agentOf(campaign) : null,
      assets: SHARE_ASSETS,
    });
    return await reply
      .header("content-type", "text/html; charset=utf-8")
      // The page carries signed URLs and must 410 as soon as the link is revoked: never stored.
      .header("cache-control", "no-store")
      .header("content-security-policy", PAGE_CSP)
      .header("referrer-policy", "no-referrer")
      .header("x-content-type-options", "nosniff")
      .send(html);
  });

  app.get<{ Params: { slug: string } }>("/s/:slug/media", async (request, reply) => {
    const lookup = await services.shareLinks.lookup(request.params.slug);
    if (lookup.state !== "active") {
      return await reply
        .code(lookup.state === "gone" ? 410 : 404)
        .header("cache-control", REFUSAL_CACHE_CONTROL)
        .send();
    }
    return await reply.header("cache-control", "no-store").send(await mediaUrls(lookup));
  });

  // Beacons: counters only (no IP address, cookie or user agent is stored); 204 either way.
  app.post<{ Params: { slug: string } }>("/s/:slug/view", async (request, reply) => {
    await services.shareLinks.recordView(request.params.slug);
    return await reply.code(204).header("cache-control", "no-store").send();
  });
  app.post<{ Params: { slug: string }; Querystring: { seconds?: string } }>(
    "/s/:slug/watch",
    async (request, reply) => {
      await services.shareLinks.recordWatch(request.params.slug, Number(request.query.seconds));
      return await reply.code(204).header("cache-control", "no-store").send();
    },
  );

  app.get(SHARE_ASSETS.hls, async (_request, reply) =>
    reply
      .header("content-type", "text/javascript; charset=utf-8")
      .header("cache-control", IMMUTABLE)
      .send(HLS_SCRIPT),
  );
  app.get(SHARE_ASSETS.player, async (_request, reply) =>
    reply
      .header("content-type", "text/javascript; charset=utf-8")
      .header("cache-control", IMMUTABLE)
      .send(PLAYER_SCRIPT),
  );
}
