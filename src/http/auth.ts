import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError, isAppError } from "../errors.js";
import type { Principal } from "../services/api-key.service.js";
import { refusalBody, retryAfterOf } from "./errors.js";
import type { RequestGuard } from "./request-guard.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * The API key from `X-API-Key` or `Authorization: Bearer …`; undefined when neither is present.
 * Both present with different keys is refused (BAD_USER_INPUT): which one a proxy or a client
 * library meant is not ours to guess.
 */
export function presentedApiKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers["x-api-key"];
  const fromHeader = typeof header === "string" && header.trim().length > 0 ? header.trim() : undefined;
  const authorization = headers.authorization;
  const bearer =
    typeof authorization === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (fromHeader !== undefined && bearer !== undefined && fromHeader !== bearer) {
    throw new AppError(
      "BAD_USER_INPUT",
      "Ambiguous credentials: X-API-Key and Authorization carry different keys",
    );
  }
  return fromHeader ?? bearer;
}

/** Sends a refusal of the request guard: its status, `Retry-After` when it has one, one body per format. */
export async function sendRefusal(
  reply: FastifyReply,
  error: AppError,
  format: "graphql" | "rest",
): Promise<void> {
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== undefined) void reply.header("retry-after", String(retryAfter));
  if (error.code === "UNAUTHENTICATED") void reply.header("www-authenticate", "Bearer");
  await reply
    .code(error.httpStatus)
    .header("content-type", "application/json; charset=utf-8")
    .send(refusalBody(error, format));
}

/**
 * Authenticates a request by API key through the request guard (one request of the key's rate
 * limit): 401 with one body for every reason, 400 for ambiguous credentials, 429, or 503 when
 * the database cannot be reached.
 */
export function apiKeyGuard(guard: RequestGuard, format: "graphql" | "rest") {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      request.principal = await guard.authenticate(presentedApiKey(request.headers), request.ip);
    } catch (error) {
      if (!isAppError(error)) throw error;
      await sendRefusal(reply, error, format);
      return reply;
    }
  };
}
