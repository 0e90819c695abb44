import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../container.js";
import { type MediaAccess, mediaCacheControl, REFUSAL_CACHE_CONTROL } from "../delivery/cache-policy.js";
import { AppError, type ErrorCode, httpStatusFor, isAppError } from "../errors.js";
import type { MediaRow } from "../media/media.store.js";
import { readCapped } from "../services/asset-upload.service.js";
import {
  filenameBinding,
  TOKEN_PURPOSES,
  type TokenPurpose,
  TokenService,
} from "../services/token.service.js";
import { restError } from "./errors.js";
import { apiKeyGuard } from "./graphql.route.js";
import {
  contentDisposition,
  contentRangeHeader,
  etagFromSha256,
  evaluateConditionals,
  formatHttpDate,
  parseRange,
  unsatisfiedRangeHeader,
} from "./range.js";
import type { RateLimiter } from "./rate-limiter.js";

const EXTENSIONS: Record<string, string> = {
  "video/mp4": "mp4",
  "audio/mp4": "m4a",
  "audio/wav": "wav",
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/avif": "avif",
  "image/heic": "heic",
};

/** Media readable with a signed URL; `upload` tokens are for PUT only. */
const READ_PURPOSES: TokenPurpose[] = ["view", "download", "provider", "share"];

function assetJson(asset: { id: string; status: string; rejectionReason: string | null; filename: string }) {
  return {
    id: asset.id,
    status: asset.status,
    filename: asset.filename,
    rejectionReason: asset.rejectionReason,
  };
}

/**
 * The REST sidecar: raw-byte uploads to signed URLs, multipart uploads for scripts, and media
 * streaming with exact RFC 9110 range semantics straight from large objects.
 */
export async function registerMediaRoutes(
  app: FastifyInstance,
  deps: { services: Services; limiter: RateLimiter },
): Promise<void> {
  const { services, limiter } = deps;
  const guard = apiKeyGuard(services, limiter, "rest");

  // PUT <uploadUrl>: the body is the photo's bytes, whatever Content-Type says.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { assetId: string }; Querystring: { token?: string } }>(
      "/v1/uploads/:assetId",
      { bodyLimit: services.config.maxUploadBytes + 1 },
      async (request, reply) => {
        const body = (request.body ?? request.raw) as NodeJS.ReadableStream as import("node:stream").Readable;
        // Answering before the whole body was read (refused, over the cap, used URL): close the
        // connection instead of letting Node drain whatever the client still sends.
        const closeIfUnread = () => {
          if (!body.readableEnded) void reply.header("connection", "close");
        };
        const declared = Number(request.headers["content-length"] ?? Number.NaN);
        if (declared > services.config.maxUploadBytes) {
          closeIfUnread();
          throw new AppError(
            "PAYLOAD_TOO_LARGE",
            `Photos may be at most ${services.config.maxUploadBytes} bytes`,
          );
        }
        const asset = await services.uploads
          .acceptUpload(
            request.params.assetId,
            request.query.token,
            body,
            Number.isSafeInteger(declared) ? declared : undefined,
          )
          .catch((error: unknown) => {
            closeIfUnread();
            throw error;
          });
        if (!asset) {
          closeIfUnread();
          return await reply.code(403).send();
        }
        const status = asset.status === "READY" ? 200 : 422;
        return await reply.code(status).send({
          asset: assetJson(asset),
          ...(asset.status === "REJECTED"
            ? restError("MEDIA_REJECTED", asset.rejectionReason ?? "rejected")
            : {}),
        });
      },
    );
  });

  // POST /v1/campaigns/:id/assets: several photos at once (multipart/form-data), API key auth.
  await app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      limits: {
        // readCapped (below) enforces the cap and stops reading, so backpressure stops busboy too.
        // Busboy's own limit sits well above it: once a file is truncated busboy skips the rest of
        // the part at full speed, reading (and discarding) the whole body before we can refuse it.
        fileSize: services.config.maxUploadBytes + 1024 * 1024,
        files: 100,
        fields: 20,
        fieldSize: 10_000,
        parts: 200,
      },
      throwFileSizeLimit: false,
    });
    scope.addHook("preHandler", guard);
    scope.post<{ Params: { id: string } }>("/v1/campaigns/:id/assets", async (request, reply) => {
      const principal = request.principal!;
      if (!principal.scopes.some((scope) => scope === "write" || scope === "admin")) {
        throw new AppError("FORBIDDEN", "This API key lacks the write scope");
      }
      await services.campaigns.require(principal.tenantId, request.params.id);
      if (!request.isMultipart())
        throw new AppError("BAD_USER_INPUT", "Send multipart/form-data with one or more files");
      const results: Record<string, unknown>[] = [];
      for await (const part of request.files()) {
        let bytes: Buffer;
        try {
          bytes = await readCapped(part.file, services.config.maxUploadBytes);
        } catch (error) {
          if (!isAppError(error) || error.code !== "PAYLOAD_TOO_LARGE") throw error;
          // Read no further: answer 413 and close the connection (busboy would otherwise read and
          // discard the rest of the body). The body lists what the files before this one became.
          const refusal = restError(error.code, error.message);
          results.push({ filename: part.filename, ...refusal });
          request.raw.unpipe();
          request.raw.pause();
          return await reply
            .code(error.httpStatus)
            .header("connection", "close")
            .send({ ...refusal, results });
        }
        try {
          const asset = await services.ingest.ingestNew(
            principal.tenantId,
            request.params.id,
            part.filename,
            bytes,
          );
          results.push({ filename: part.filename, asset: assetJson(asset) });
        } catch (error) {
          if (!isAppError(error)) throw error;
          results.push({ filename: part.filename, ...restError(error.code, error.message) });
        }
      }
      if (results.length === 0) throw new AppError("BAD_USER_INPUT", "No files in the request");
      // Every file failed: the status of the first failure (they are usually all alike).
      const failures = results.filter((result) => result.error);
      const only =
        failures.length === results.length ? (failures[0]!.error as { code: ErrorCode }) : undefined;
      const status = only ? httpStatusFor(only.code) : 200;
      return await reply.code(status).send({ results });
    });
  });

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
  const token: unknown = request.query.token;
  const name: unknown = request.query.name;
  if (token !== undefined) {
    // `?token=a&token=b` (or two names) parses to an array: as unusable as a bad token.
    const purpose = (typeof token === "string" ? token.split(".")[1] : undefined) as TokenPurpose;
    const media = await services.media.byId(null, request.params.id);
    const ok =
      media !== null &&
      (name === undefined || typeof name === "string") &&
      TOKEN_PURPOSES.includes(purpose) &&
      READ_PURPOSES.includes(purpose) &&
      services.tokens.verify(token as string, {
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
      access: { kind: "token", purpose, expiresAt: TokenService.expiryOf(token as string) },
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
