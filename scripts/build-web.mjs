#!/usr/bin/env node
// Builds the web console (web/ → dist/console) and GraphiQL (web/graphiql → dist/graphiql):
// type-check, Vite production builds, then a Brotli and a gzip copy of every compressible asset,
// which the server sends to browsers that accept them (@fastify/static preCompressed).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const COMPRESSIBLE = /\.(js|mjs|css|svg|json|ttf|wasm|map)$/;

execFileSync(
  process.execPath,
  [
    path.join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    path.join(root, "web", "tsconfig.json"),
  ],
  { stdio: "inherit" },
);

const { build } = await import("vite");
for (const config of ["web/vite.config.ts", "web/graphiql/vite.config.ts"]) {
  await build({ configFile: path.join(root, config), logLevel: "warn" });
}

function precompress(dir) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) {
      precompress(file);
      continue;
    }
    if (!COMPRESSIBLE.test(name) || statSync(file).size < 1024) continue;
    const bytes = readFileSync(file);
    writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
    writeFileSync(
      `${file}.br`,
      brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
    );
  }
}
for (const out of ["console", "graphiql"]) precompress(path.join(root, "dist", out, "assets"));
