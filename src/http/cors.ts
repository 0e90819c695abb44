import fastifyCors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";

/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Cross-origin access for browsers: only the origins in `CORS_ORIGINS` (exact matches, no
 * patterns), none when it is empty. A preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) is answered in an `onRequest` hook, before any route's
 * key check runs: a browser never sends credentials with it. An origin not on the list gets an
 * answer without `Access-Control-Allow-Origin`, which the browser treats as a refusal.
 */
export async function registerCors(app: FastifyInstance, config: Pick<Config, "corsOrigins">): Promise<void> {
  await app.register(fastifyCors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ["GET", "HEAD", "POST", "PUT"],
    allowedHeaders: [
      "Content-Type",
      "X-API-Key",
      "Authorization",
      "X-Request-Id",
      "Apollo-Require-Preflight",
    ],
    exposedHeaders: ["Retry-After", "X-Request-Id", "Content-Range", "Content-Disposition"],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    credentials: false,
  });
}
