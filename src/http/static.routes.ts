import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../logger.js";
import { restError } from "./errors.js";

/** dist/, where `npm run build` puts the console (dist/console) and GraphiQL (dist/graphiql). */
export const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** Paths that belong to the API: never answered with the console, unknown ones stay a JSON 404. */
const SERVICE_PATH = /^\/(?:v1|graphql|graphiql|healthz|readyz|metrics)(?:[/?]|$)/;

/** Vite names every asset by its content hash: a URL's bytes never change. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The pages load only from this origin (the browser test also fails on any other request). Inline
 * styles: Mantine sets CSS variables in `style` attributes, Monaco (GraphiQL) injects <style>.
 * `connect-src 'self'` covers the same-origin WebSocket.
 */
export const PAGE_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

function pageHeaders(reply: FastifyReply): void {
  // Always revalidated (ETag), so a new build's index.html names the new asset files at once.
  void reply
    .header("cache-control", "no-cache")
    .header("content-security-policy", PAGE_SECURITY_POLICY)
    .header("referrer-policy", "no-referrer")
    .header("x-content-type-options", "nosniff");
}

/** An index.html: never shadowing a service path, always revalidated. */
async function sendPage(reply: FastifyReply, dir: string): Promise<FastifyReply> {
  pageHeaders(reply);
  return await reply.sendFile("index.html", dir);
}

function cacheHeaders(root: string) {
  return (reply: FastifyReply, file: string) => {
    const relative = path.relative(root, file).split(path.sep);
    if (relative[0] === "assets") void reply.header("cache-control", IMMUTABLE);
    else pageHeaders(reply);
  };
}

/** A request for a page of the single-page app: GET/HEAD of a path that names no file. */
function isClientRoute(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const pathname = request.url.split("?")[0]!;
  if (SERVICE_PATH.test(pathname)) return false;
  return !path.posix.basename(pathname).includes(".");
}

/**
 * The web console at `/` (content-hashed assets cached for a year, index.html revalidated,
 * client routes answered with index.html) and, outside production, GraphiQL at `/graphiql`.
 * Precompressed `.br`/`.gz` copies (scripts/build-web.mjs) are sent when the browser accepts them.
 * Everything else that matches no route gets the REST sidecar's JSON 404.
 */
export async function registerStaticRoutes(
  app: FastifyInstance,
  deps: { production: boolean; logger: Logger; distDir?: string },
): Promise<void> {
  const distDir = deps.distDir ?? DEFAULT_WEB_DIST_DIR;
  const consoleDir = path.join(distDir, "console");
  const graphiqlDir = path.join(distDir, "graphiql");
  const hasConsole = existsSync(path.join(consoleDir, "index.html"));
  const hasGraphiQL = !deps.production && existsSync(path.join(graphiqlDir, "index.html"));
  if (!hasConsole)
    deps.logger.warn({ consoleDir }, "the web console is not built (npm run build); / is a 404");

  if (hasConsole) {
    await app.register(fastifyStatic, {
      root: consoleDir,
      prefix: "/",
      index: false,
      cacheControl: false,
      preCompressed: true,
      setHeaders: cacheHeaders(consoleDir),
    });
    // `/` is a directory to the wildcard route above (403); it is the app's home page.
    app.get("/", async (_request, reply) => await sendPage(reply, consoleDir));
  }
  if (hasGraphiQL) {
    await app.register(fastifyStatic, {
      root: graphiqlDir,
      prefix: "/graphiql/",
      // reply.sendFile exists once; the console's registration adds it when there is a console.
      decorateReply: !hasConsole,
      cacheControl: false,
      preCompressed: true,
      setHeaders: cacheHeaders(graphiqlDir),
    });
    app.get("/graphiql", async (_request, reply) => await sendPage(reply, graphiqlDir));
  }

  app.setNotFoundHandler(async (request, reply) => {
    if (hasConsole && isClientRoute(request)) return await sendPage(reply, consoleDir);
    return await reply
      .code(404)
      .header("content-type", "application/json; charset=utf-8")
      .send(
        JSON.stringify(
          restError("NOT_FOUND", `Route ${request.method}:${request.url.split("?")[0]} not found`),
        ),
      );
  });
}
