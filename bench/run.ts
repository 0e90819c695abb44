/**
 * `npm run bench`: runs each benchmark and prints its figures as ratios against a baseline
 * measured in the same run (absolute times on shared machines drift; ratios do not).
 * Usage: npm run bench [-- name ...]
 */
import { BENCHMARKS } from "./benchmarks.js";

const wanted = new Set(process.argv.slice(2));
const selected = BENCHMARKS.filter((bench) => wanted.size === 0 || wanted.has(bench.name));
if (selected.length === 0) {
  process.stdout.write(
    `no benchmark selected; known: ${BENCHMARKS.map((bench) => bench.name).join(", ") || "(none yet)"}\n`,
  );
}
let failed = false;
for (const bench of selected) {
  process.stdout.write(`\n## ${bench.name}: ${bench.description}\n`);
  try {
    const lines = await bench.run();
    for (const line of lines) process.stdout.write(`  ${line}\n`);
  } catch (error) {
    failed = true;
    process.stdout.write(`  FAILED: ${(error as Error).stack ?? String(error)}\n`);
  }
}
process.exit(failed ? 1 : 0);
