import type { FastifyInstance } from "fastify";
import type { Services } from "../container.js";
import { mediaCacheControl, REFUSAL_CACHE_CONTROL } from "../delivery/cache-policy.js";
import { HLS_CONTENT_TYPE, masterPlaylist, mediaPlaylist, PLAYLIST_FILE } from "../delivery/hls-playlists.js";
import { TokenService } from "../services/token.service.js";

/** Playlists are read with the video's own signed token: a per-user `view` or a share page's `share`. */
const PLAYLIST_PURPOSES = new Set(["view", "share"]);

/**
 * GET /v1/hls/:mediaId/master.m3u8 and /v1/hls/:mediaId/<label>.m3u8 with `?token=` signed for
 * the source video. Variant URIs are relative (the same token); segment URIs are relative
 * `/v1/media/<rendition>` URLs signed with the playlist's own expiry, so a playlist and its
 * segments stay valid — and cacheable — for exactly the same window.
 */
export async function registerHlsRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const { services } = deps;
  app.get<{ Params: { mediaId: string; file: string }; Querystring: { token?: unknown } }>(
    "/v1/hls/:mediaId/:file",
    async (request, reply) => {
      const { mediaId, file } = request.params;
      const token = request.query.token;
      const purpose = typeof token === "string" ? token.split(".")[1] : undefined;
      const source = await services.media.byId(null, mediaId);
      const ok =
        source !== null &&
        typeof token === "string" &&
        purpose !== undefined &&
        PLAYLIST_PURPOSES.has(purpose) &&
        services.tokens.verify(token, {
          id: source.id,
          purpose: purpose as "view",
          tenantId: source.tenantId,
        });
      if (!ok || !source) return await reply.code(403).header("cache-control", REFUSAL_CACHE_CONTROL).send();
      const match = PLAYLIST_FILE.exec(file);
      const renditions = match ? await services.renditions.bySources(source.tenantId, [source.id]) : [];
      const label = match?.[1];
      const rendition = renditions.find((candidate) => candidate.label === label);
      if (renditions.length === 0 || (label !== "master" && !rendition)) {
        return await reply.code(404).header("cache-control", REFUSAL_CACHE_CONTROL).send();
      }
      const expiry = TokenService.expiryOf(token as string);
      const body = rendition
        ? mediaPlaylist(
            rendition,
            `../../media/${rendition.mediaId}/${rendition.label}.mp4?token=${services.tokens.signUntil(
              { id: rendition.mediaId, purpose: purpose as "view", tenantId: source.tenantId },
              expiry,
            )}`,
          )
        : masterPlaylist(renditions, (variant) => `${variant}.m3u8?token=${token as string}`);
      return await reply
        .header("content-type", HLS_CONTENT_TYPE)
        .header(
          "cache-control",
          mediaCacheControl({ kind: "token", purpose: purpose!, expiresAt: expiry }, Date.now()),
        )
        .header("x-content-type-options", "nosniff")
        .send(body);
    },
  );
}
