#!/usr/bin/env node
// Runs the test tiers on the compiled output (dist/), against one PostgreSQL for the whole run:
// DATABASE_URL when set, else an embedded server in a temporary directory. Each integration or
// e2e test file creates its own database from a migrated template (test/helpers/db.ts).
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Usage: node scripts/test.mjs [tier ...] [--match SUBSTRING ...]
// (`--match assets` runs only the test files whose path contains "assets").
const args = process.argv.slice(2);
const matches = [];
const named = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--match") matches.push(args[++i] ?? "");
  else named.push(args[i]);
}
const tiers = named.length ? named : ["unit", "integration", "e2e"];

function testFiles(tier) {
  const dir = path.join(root, "dist", "test", tier);
  if (!existsSync(dir)) return [];
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const file = path.join(d, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (name.endsWith(".test.js") && (matches.length === 0 || matches.some((m) => file.includes(m))))
        out.push(file);
    }
  };
  walk(dir);
  return out;
}

const { pino } = await import("pino");
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "warn" });
const { prepareTestDatabaseServer } = await import(path.join(root, "dist/test/helpers/db.js"));

let server;
let scratch;
if (tiers.some((tier) => tier !== "unit" && testFiles(tier).length > 0)) {
  scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-test-"));
  chmodSync(scratch, 0o755); // the postgres system user must be able to enter it
  server = await prepareTestDatabaseServer({
    scratchDir: scratch,
    logger,
    databaseUrl: process.env.DATABASE_URL,
  });
}

// Files whose bounds are about time or memory under a stated load (fair queues, 20 concurrent
// uploads, upload throughput, a cancel that stops a render within a second, reconnecting through
// a database restart) run after the others, one at a time, so a neighbouring file's CPU does not
// decide them.
const ALONE = [
  "fair-queues.test.js",
  "upload-memory.test.js",
  "assets-upload.test.js",
  "pipeline.test.js",
  "multi-process.test.js",
];

// The longest files (measured alone on 2 cores: 40–110 s each) start first, so that a run does
// not end with one of them alone on a core while the other sits idle; the rest keep their order.
// (Node's runner sorts the files it is given by name, hence one runner per file, runEach.)
const LONGEST_FIRST = [
  "listing-video.test.js",
  "web-console.test.js",
  "listing-formats.test.js",
  "web-console-reconnect.test.js",
  "webhook-crash.test.js",
  "real-providers.test.js",
  "server.test.js",
  "replicate-video.test.js",
  "render-cuts.test.js",
  "local-video.test.js",
  "usage.test.js",
];
const rank = (file) => {
  const at = LONGEST_FIRST.indexOf(path.basename(file));
  return at === -1 ? LONGEST_FIRST.length : at;
};

const testEnv = (tier) => ({
  ...process.env,
  ...(server?.env ?? {}),
  NODE_ENV: "test",
  PROPVID_TEST_TIER: tier,
});
const RUNNER_ARGS = ["--test", "--test-reporter=spec", "--test-timeout=300000"];

function runFiles(tier, files, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...RUNNER_ARGS, `--test-concurrency=${concurrency}`, ...files], {
      stdio: "inherit",
      env: testEnv(tier),
    });
    child.on("close", (exitCode) => resolve(exitCode ?? 1));
  });
}

/** One file in a runner of its own; its report (stdout and stderr, as they came) is returned whole. */
function runOne(tier, file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...RUNNER_ARGS, file], {
      stdio: ["ignore", "pipe", "pipe"],
      env: testEnv(tier),
    });
    const chunks = [];
    child.stdout.on("data", (chunk) => chunks.push(chunk));
    child.stderr.on("data", (chunk) => chunks.push(chunk));
    child.on("close", (exitCode) =>
      resolve({
        file: path.relative(root, file),
        ok: exitCode === 0,
        seconds: (Date.now() - started) / 1000,
        report: Buffer.concat(chunks),
      }),
    );
  });
}

/**
 * The files, `concurrency` at a time in the order given, each in a runner of its own; each
 * report is printed whole when its file ends (not interleaved), then the tier's slowest files.
 */
async function runEach(tier, files, concurrency) {
  const queue = [...files];
  const results = [];
  const lane = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const result = await runOne(tier, file);
      process.stdout.write(result.report);
      results.push(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, lane));
  const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
  process.stdout.write(
    `# ${tier}: ${results.length} files (${concurrency} at a time); slowest: ${slowest
      .map((result) => `${path.basename(result.file)} ${result.seconds.toFixed(0)} s`)
      .join(", ")}\n`,
  );
  const failedFiles = results.filter((result) => !result.ok);
  for (const result of failedFiles) process.stdout.write(`# failed: ${result.file}\n`);
  return failedFiles.length === 0 ? 0 : 1;
}

let failed = false;
const suiteStarted = Date.now();
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(0)} s`;
try {
  for (const tier of tiers) {
    const files = testFiles(tier);
    if (files.length === 0) continue;
    process.stdout.write(`\n# tier: ${tier} (${files.length} files)\n`);
    const tierStarted = Date.now();
    const alone = files.filter((file) => ALONE.includes(path.basename(file)));
    const shared = files.filter((file) => !alone.includes(file)).sort((a, b) => rank(a) - rank(b));
    // Unit files are many and short: one runner takes them all, as many at once as there are cores.
    if (tier === "unit") {
      if ((await runFiles(tier, files, os.availableParallelism())) !== 0) failed = true;
    } else {
      if (shared.length > 0 && (await runEach(tier, shared, 2)) !== 0) failed = true;
      if (alone.length > 0 && (await runEach(tier, alone, 1)) !== 0) failed = true;
    }
    process.stdout.write(`# tier ${tier} took ${elapsed(tierStarted)}\n`);
  }
  process.stdout.write(
    `# suite (${tiers.join(", ")}) took ${elapsed(suiteStarted)} on Node ${process.version}\n`,
  );
} finally {
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
