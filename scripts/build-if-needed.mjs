#!/usr/bin/env node
// `npm start` on a fresh clone: compile once when dist/ is missing or older than the sources.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(root, "dist", "src", "main.js");

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const stat = statSync(file);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(file) : stat.mtimeMs);
  }
  return newest;
}

const sources = Math.max(newestSource(path.join(root, "src")), newestSource(path.join(root, "migrations")));
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  process.stderr.write("building propvid…\n");
  execFileSync(
    process.execPath,
    [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "tsconfig.json")],
    {
      stdio: "inherit",
    },
  );
}
