#!/usr/bin/env node
// `npm start` on a fresh clone: compile the server and build the web console once, when their
// output is missing or older than the sources.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const stat = statSync(file);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(file) : stat.mtimeMs);
  }
  return newest;
}

function stale(output, sourceDirs) {
  if (!existsSync(output)) return true;
  return statSync(output).mtimeMs < Math.max(...sourceDirs.map((dir) => newestSource(path.join(root, dir))));
}

if (stale(path.join(root, "dist", "src", "main.js"), ["src", "migrations"])) {
  process.stderr.write("building propvid…\n");
  execFileSync(
    process.execPath,
    [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "tsconfig.json")],
    { stdio: "inherit" },
  );
}

if (stale(path.join(root, "dist", "console", "index.html"), ["web"])) {
  if (existsSync(path.join(root, "node_modules", "vite"))) {
    process.stderr.write("building the web console…\n");
    execFileSync(process.execPath, [path.join(root, "scripts", "build-web.mjs")], { stdio: "inherit" });
  } else {
    // An install without devDependencies cannot build it: the API still starts.
    process.stderr.write(
      "the web console is not built and Vite is not installed (npm install): serving the API only\n",
    );
  }
}
