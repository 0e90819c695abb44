import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";

/**
 * The first start's admin key, shown once and never to a log: on a terminal, printed once (the
 * curl line refers to it by a variable); otherwise — stdout is a pipe or a file, i.e. a log —
 * written to a 0600 file in the data dir, and the log says where.
 */
export function announceBootstrapKey(key: string, config: Config, logger: Logger): void {
  if (process.stdout.isTTY) {
    process.stdout.write(`${bootstrapKeyBanner(key, config.publicBaseUrl)}\n`);
    return;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, "admin-key");
  rmSync(file, { force: true }); // a key file of an earlier bootstrap: its key no longer exists
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  logger.warn(
    { file },
    "created a default tenant and an admin API key; the key is in this file, readable by this user only: keep it somewhere safe and delete the file",
  );
}

/** What a terminal shows on the first start: the key once, and a curl line that uses it by name. */
export function bootstrapKeyBanner(key: string, baseUrl: string): string {
  return [
    "",
    "  propvid created a default tenant and an admin API key. It is shown only this once:",
    "",
    `    export PROPVID_KEY=${key}`,
    "",
    `  Open ${baseUrl}/ in a browser and sign in with it, or try the API:`,
    "",
    `    curl -s ${baseUrl}/graphql -H 'content-type: application/json' \\`,
    `      -H "x-api-key: $PROPVID_KEY" \\`,
    `      -d '{"query":"{ viewer { tenant { name } } }"}'`,
    "",
  ].join("\n");
}
