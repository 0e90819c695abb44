import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../container.js";
import { type MediaAccess, mediaCacheControl, REFUSAL_CACHE_CONTROL } from "../delivery/cache-policy.js";
import type { MediaRow } from "../media/media.store.js";
import {
  filenameBinding,
  TOKEN_PURPOSES,
  type TokenPurpose,
  TokenService,
} from "../services/token.service.js";
import { apiKeyGuard } from "./auth.js";
import { restError } from "./errors.js";
import { signedUrlToken } from "./query-string.js";
import {
  contentDisposition,
  contentRangeHeader,
  etagFromSha256,
  evaluateConditionals,
  formatHttpDate,
  parseRange,
  unsatisfiedRangeHeader,
} from "./range.js";
import type { RequestGuard } from "./request-guard.js";

const EXTENSIONS: Record<string, string> = {
  "video/mp4": "mp4",
  "audio/mp4": "m4a",
  "audio/wav": "wav",
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/avif": "avif",
  "image/heic": "heic",
  "image/heif": "heic",
  "text/vtt": "vtt",
  "image/svg+xml": "svg",
};

/** Media readable with a signed URL; `upload` tokens are for PUT only. */
const READ_PURPOSES: TokenPurpose[] = ["view", "download", "provider", "share"];

/**
 * Media streaming with exact RFC 9110 range semantics straight from large objects, with an API
 * key or a signed URL. (Uploads are in upload.routes.ts.)
 */
export async function registerMediaRoutes(
  app: FastifyInstance,
  deps: { services: Services; requestGuard: RequestGuard },
): Promise<void> {
  const { services, requestGuard } = deps;
  const guard = apiKeyGuard(requestGuard, "rest");

  // GET/HEAD /v1/media/:id with an API key or a signed URL (?token=).
  const serveMedia = async (
    request: FastifyRequest<{ Params: { id: string }; Querystring: MediaQuery }>,
    reply: FastifyReply,
  ) => {
    const authorized = await authorizeMedia(services, guard, request, reply);
    if (!authorized) return reply;
    const { media, access } = authorized;
    const etag = etagFromSha256(media.sha256);
    const lastModified = new Date(Math.floor(media.createdAt.getTime() / 1000) * 1000);
    void reply
      .header("accept-ranges", "bytes")
      .header("etag", etag)
      .header("last-modified", formatHttpDate(lastModified))
      .header("cache-control", mediaCacheControl(access, Date.now()))
      .header("content-type", media.contentType)
      .header("x-content-type-options", "nosniff");
    // a logo's SVG (sanitised at ingest) never runs anything even if opened directly
    if (media.contentType === "image/svg+xml")
      void reply.header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    const extension = EXTENSIONS[media.contentType] ?? "bin";
    const download = request.query.download === "1" || request.query.download === "true";
    // A signed URL's name was checked with its token (authorizeMedia); an API-key caller names its own.
    const name =
      typeof request.query.name === "string" ? request.query.name : `propvid-${media.id}.${extension}`;
    void reply.header("content-disposition", contentDisposition(name, download));

    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === "string" ? value : undefined;
    };
    const outcome = evaluateConditionals({
      method: request.method,
      ifNoneMatch: header("if-none-match"),
      ifRange: header("if-range"),
      ifModifiedSince: header("if-modified-since"),
      etag,
      lastModified,
    });
    if (outcome === "not-modified") return await reply.code(304).send();

    const size = media.byteSize;
    const range =
      outcome === "ignore-range" ? ({ kind: "none" } as const) : parseRange(header("range"), size);
    if (range.kind === "unsatisfiable") {
      return await reply.code(416).header("content-range", unsatisfiedRangeHeader(size)).send();
    }
    const [status, start, end] = range.kind === "single" ? [206, range.start, range.end] : [200, 0, size - 1];
    void reply.code(status).header("content-length", String(end - start + 1));
    if (status === 206) void reply.header("content-range", contentRangeHeader(start, end, size));
    if (request.method === "HEAD" || size === 0) return await reply.send();
    const stream = services.media.openRange(media, start, end);
    // A client that goes away stops the database read at once.
    reply.raw.once("close", () => {
      if (!stream.destroyed) stream.destroy();
    });
    return await reply.send(stream);
  };
  // An explicit HEAD route: the one Fastify derives from GET would answer `Content-Length: 0`
  // to the handler's empty send, instead of the representation's length.
  app.get("/v1/media/:id", { exposeHeadRoute: false }, serveMedia);
  app.head("/v1/media/:id", serveMedia);
  // The same route with a cosmetic file name (`/v1/media/<id>/480p.mp4`): HLS segment URIs end in
  // an extension, which some players (FFmpeg's HLS demuxer among them) insist on.
  app.get("/v1/media/:id/:file", { exposeHeadRoute: false }, serveMedia);
  app.head("/v1/media/:id/:file", serveMedia);
}

interface MediaQuery {
  token?: string;
  download?: string;
  /** The download name, bound into a signed URL's token. */
  name?: string;
}

/**
 * A signed URL needs no header; a bad, expired or foreign token is 403 with an empty body.
 * With an API key, another tenant's media is 404 like a random id.
 */
async function authorizeMedia(
  services: Services,
  guard: ReturnType<typeof apiKeyGuard>,
  request: FastifyRequest<{ Params: { id: string }; Querystring: MediaQuery }>,
  reply: FastifyReply,
): Promise<{ media: MediaRow; access: MediaAccess } | undefined> {
  const name: unknown = request.query.name;
  // Only the canonical `token=` counts; `%74oken=`, `token[]=` or two tokens are refused.
  const token = signedUrlToken(request.url);
  if (token.kind !== "none") {
    const purpose = (token.kind === "token" ? token.token.split(".")[1] : undefined) as TokenPurpose;
    const media = token.kind === "token" ? await services.media.byId(null, request.params.id) : null;
    const ok =
      media !== null &&
      token.kind === "token" &&
      // `?name=a&name=b` parses to an array: as unusable as a bad token.
      (name === undefined || typeof name === "string") &&
      TOKEN_PURPOSES.includes(purpose) &&
      READ_PURPOSES.includes(purpose) &&
      services.tokens.verify(token.token, {
        id: media.id,
        purpose,
        tenantId: media.tenantId,
        extra: filenameBinding(name as string | undefined),
      });
    if (!ok) {
      await reply.code(403).header("cache-control", REFUSAL_CACHE_CONTROL).send();
      return undefined;
    }
    return {
      media: media!,
      access: {
        kind: "token",
        purpose,
        expiresAt: TokenService.expiryOf((token as { token: string }).token),
      },
    };
  }
  // With an API key: the guard of the rest of the API (one 401 body for every reason, rate limit).
  await guard(request, reply);
  if (reply.sent) return undefined;
  const principal = request.principal!;
  const media = await services.media.byId(principal.tenantId, request.params.id);
  if (!media || (name !== undefined && typeof name !== "string")) {
    await reply
      .code(404)
      .header("cache-control", REFUSAL_CACHE_CONTROL)
      .send(restError("NOT_FOUND", "Media not found"));
    return undefined;
  }
  return { media, access: { kind: "api-key" } };
}
