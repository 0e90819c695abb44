import type { Readable } from "node:stream";
import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../container.js";
import type { AssetEntity } from "../db/entities/index.js";
import { AppError, type ErrorCode, httpStatusFor, isAppError } from "../errors.js";
import { nextChunk } from "../media/large-object.store.js";
import { apiKeyGuard } from "./auth.js";
import { restError } from "./errors.js";
import { signedUrlToken } from "./query-string.js";
import type { RequestGuard } from "./request-guard.js";
import type { UploadSlots } from "./upload-slots.js";

function assetJson(asset: { id: string; status: string; rejectionReason: string | null; filename: string }) {
  return {
    id: asset.id,
    status: asset.status,
    filename: asset.filename,
    rejectionReason: asset.rejectionReason,
  };
}

/** One file of a multipart upload as the client sees it: its asset, or why it has none. */
function fileResult(filename: string, asset: AssetEntity): Record<string, unknown> {
  return {
    filename,
    asset: assetJson(asset),
    // A photo refused after analysis answers like the signed PUT does (422 MEDIA_REJECTED).
    ...(asset.status === "REJECTED" ? restError("MEDIA_REJECTED", asset.rejectionReason ?? "rejected") : {}),
  };
}

/**
 * An upload streams for as long as the client sends, and may then wait its turn for analysis:
 * the connection's idle timeout would cut off a slow but live upload, or our own answer. Upload
 * routes time out the client's silence themselves instead (`idleTimeoutMs` while waiting for
 * bytes), so the socket timer is switched off for them.
 */
function ownIdleTimeout(request: FastifyRequest): void {
  request.raw.socket?.setTimeout?.(0);
}

/** Answering before the whole body was read: close the connection rather than drain the rest. */
function closeIfUnread(body: Readable, reply: FastifyReply): void {
  if (!body.readableEnded) void reply.header("connection", "close");
}

/**
 * Photo uploads: raw bytes PUT to a signed URL, and multipart uploads for scripts. Bytes go into
 * storage as they arrive (never whole into memory); at most `UPLOAD_CONCURRENCY` uploads run at
 * once, `UPLOAD_CONCURRENCY_PER_KEY` per key (per tenant for signed URLs), others get 429.
 */
export async function registerUploadRoutes(
  app: FastifyInstance,
  deps: { services: Services; requestGuard: RequestGuard; slots: UploadSlots },
): Promise<void> {
  const { services, requestGuard, slots } = deps;
  const { config } = services;
  const guard = apiKeyGuard(requestGuard, "rest");

  // PUT <uploadUrl>: the body is the photo's bytes, whatever Content-Type says.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { assetId: string } }>(
      "/v1/uploads/:assetId",
      { bodyLimit: config.maxUploadBytes + 1 },
      async (request, reply) => {
        ownIdleTimeout(request);
        const body = (request.body ?? request.raw) as Readable;
        const token = signedUrlToken(request.url);
        if (token.kind === "refused") {
          closeIfUnread(body, reply);
          return await reply.code(403).send();
        }
        const declared = Number(request.headers["content-length"] ?? Number.NaN);
        let asset: AssetEntity | null;
        let release: (() => void) | undefined;
        try {
          if (declared > config.maxUploadBytes) {
            throw new AppError("PAYLOAD_TOO_LARGE", `Photos may be at most ${config.maxUploadBytes} bytes`);
          }
          asset = await services.uploads.authorizeUpload(
            request.params.assetId,
            token.kind === "token" ? token.token : undefined,
            Number.isSafeInteger(declared) ? declared : undefined,
          );
          if (!asset) {
            closeIfUnread(body, reply);
            return await reply.code(403).send();
          }
          // A signed URL carries no key: its uploads count against the tenant that made it.
          release = slots.acquire(`tenant:${asset.tenantId}`);
          asset = await services.uploads.acceptUpload(asset, body);
        } catch (error) {
          closeIfUnread(body, reply);
          throw error;
        } finally {
          release?.();
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
        // receive() enforces the cap and stops reading, so backpressure stops busboy too.
        // Busboy's own limit sits well above it: once a file is truncated busboy skips the rest of
        // the part at full speed, reading (and discarding) the whole body before we can refuse it.
        fileSize: config.maxUploadBytes + 1024 * 1024,
        files: 100,
        fields: 20,
        fieldSize: 10_000,
        parts: 200,
      },
      throwFileSizeLimit: false,
    });
    scope.addHook("preHandler", guard);
    scope.post<{ Params: { id: string } }>("/v1/campaigns/:id/assets", async (request, reply) => {
      ownIdleTimeout(request);
      const principal = request.principal!;
      if (!principal.scopes.some((scope) => scope === "write" || scope === "admin")) {
        throw new AppError("FORBIDDEN", "This API key lacks the write scope");
      }
      await services.campaigns.require(principal.tenantId, request.params.id);
      if (!request.isMultipart())
        throw new AppError("BAD_USER_INPUT", "Send multipart/form-data with one or more files");
      const release = slots.acquire(principal.apiKeyId);
      const results: Record<string, unknown>[] = [];
      // Stops reading the request and answers now: the rest of the body is not drained.
      const refuseRest = async (error: AppError, filename?: string) => {
        const refusal = restError(error.code, error.message);
        if (filename !== undefined) results.push({ filename, ...refusal });
        request.raw.unpipe();
        request.raw.pause();
        return await reply
          .code(error.httpStatus)
          .header("connection", "close")
          .send({ ...refusal, results });
      };
      try {
        const parts = request.files()[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<Awaited<ReturnType<typeof request.file>>>;
          try {
            // The client's silence between files counts against the idle timeout too.
            next = (await nextChunk(parts, undefined, config.http.idleTimeoutMs)) as typeof next;
          } catch (error) {
            const refusal = malformedMultipart(error, request);
            if (isAppError(refusal) && refusal.code === "REQUEST_TIMEOUT") return await refuseRest(refusal);
            throw refusal;
          }
          if (next.done || !next.value) break;
          const part = next.value;
          try {
            const asset = await services.ingest.ingestNew(
              principal.tenantId,
              request.params.id,
              part.filename,
              part.file,
              {},
              { maxBytes: config.maxUploadBytes, idleTimeoutMs: config.http.idleTimeoutMs },
            );
            results.push(fileResult(part.filename, asset));
          } catch (error) {
            if (!isAppError(error)) throw malformedMultipart(error, request);
            if (error.code === "PAYLOAD_TOO_LARGE" || error.code === "REQUEST_TIMEOUT") {
              // The body lists what the files before this one became.
              return await refuseRest(error, part.filename);
            }
            part.file.resume(); // skip the rest of a refused file; the next one may be fine
            results.push({ filename: part.filename, ...restError(error.code, error.message) });
          }
        }
      } finally {
        release();
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
}

/**
 * What the multipart parser's failures mean to the client: a body that is not well-formed
 * multipart (no boundary, truncated, malformed headers, too many parts) is the client's error,
 * 400 (413 for the parser's limits), not a 500. A client that went away gets its error back.
 */
function malformedMultipart(error: unknown, request: FastifyRequest): AppError | Error {
  if (isAppError(error)) return error;
  if (request.raw.destroyed && !request.raw.complete) return error as Error;
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 413) return new AppError("PAYLOAD_TOO_LARGE", (error as Error).message);
  const detail = error instanceof Error ? error.message : String(error);
  return new AppError("BAD_USER_INPUT", `The multipart body is malformed: ${detail}`, { cause: error });
}
