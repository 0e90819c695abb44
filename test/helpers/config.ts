import { type Config, parseConfig } from "../../src/config.js";

/** Test configuration: no environment read, a fixed test secret, overridable settings. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig(
    { NODE_ENV: "test", LOG_LEVEL: "silent", ...overrides },
    { secret: () => "test-secret-".padEnd(48, "x") },
  );
}
