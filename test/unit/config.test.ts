import assert from "node:assert/strict";
import os from "node:os";
import { describe, it } from "node:test";
import { ConfigError, defaultRenderConcurrency, parseConfig } from "../../src/config.js";

const secret = () => "s".repeat(40);

describe("config", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig({}, { secret });
    assert.equal(config.port, 4000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.databaseUrl, undefined);
    assert.match(config.dataDir, /\.data$/);
    assert.equal(config.publicBaseUrl, "http://127.0.0.1:4000");
    assert.equal(config.publicBaseUrlConfigured, false);
    assert.equal(config.logLevel, "info");
    assert.equal(config.nodeEnv, "development");
    assert.equal(config.role, "all");
    assert.equal(config.allowLoopbackFetch, false);
    assert.ok(config.renderConcurrency >= 1);
    assert.equal(config.renderNice, 10);
    assert.ok(Object.isFrozen(config));
  });

  it("leaves a core to the API in --role all: one render fewer than cores there, unless set", () => {
    assert.deepEqual(
      [1, 2, 8].map((cores) => defaultRenderConcurrency("all", cores)),
      [1, 1, 7],
    );
    assert.deepEqual(
      [1, 2, 8].map((cores) => defaultRenderConcurrency("worker", cores)),
      [1, 2, 8],
    );
    assert.equal(defaultRenderConcurrency("api", 4), 4);
    const cores = os.availableParallelism();
    assert.equal(parseConfig({}, { secret }).renderConcurrency, Math.max(1, cores - 1));
    assert.equal(parseConfig({ PROPVID_ROLE: "worker" }, { secret }).renderConcurrency, cores);
    assert.equal(parseConfig({ RENDER_CONCURRENCY: "3" }, { secret }).renderConcurrency, 3);
  });

  it("derives PUBLIC_BASE_URL from HOST and PORT, bracketing IPv6", () => {
    assert.equal(parseConfig({ HOST: "::1", PORT: "8080" }, { secret }).publicBaseUrl, "http://[::1]:8080");
    assert.equal(
      parseConfig({ PUBLIC_BASE_URL: "https://video.example.com/" }, { secret }).publicBaseUrl,
      "https://video.example.com",
    );
  });

  it("rejects invalid settings with every problem named", () => {
    assert.throws(
      () =>
        parseConfig(
          { PORT: "70000", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", PUBLIC_BASE_URL: "ftp://x" },
          { secret },
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.issues.join("\n");
        for (const name of ["PORT", "DATABASE_URL", "LOG_LEVEL", "PUBLIC_BASE_URL"])
          assert.match(text, new RegExp(name));
        return true;
      },
    );
  });

  it("takes PROPVID_SECRET when set and refuses a short one", () => {
    const long = "k".repeat(32);
    assert.equal(
      parseConfig({ PROPVID_SECRET: long }, { secret: () => assert.fail("not used") }).secret,
      long,
    );
    assert.throws(() => parseConfig({ PROPVID_SECRET: "short" }, { secret }), ConfigError);
  });

  it("takes RENDER_NICE between 0 and 19", () => {
    assert.equal(parseConfig({ RENDER_NICE: "0" }, { secret }).renderNice, 0);
    assert.equal(parseConfig({ RENDER_NICE: "19" }, { secret }).renderNice, 19);
    assert.throws(() => parseConfig({ RENDER_NICE: "20" }, { secret }), ConfigError);
    assert.throws(() => parseConfig({ RENDER_NICE: "-1" }, { secret }), ConfigError);
  });

  it("reads the tenant quota defaults and the metrics token", () => {
    assert.deepEqual(parseConfig({}, { secret }).tenantDefaults, {
      concurrentJobs: 4,
      storageBytes: null,
      videosPerMonth: null,
    });
    assert.equal(parseConfig({}, { secret }).metricsToken, undefined);
    const config = parseConfig(
      {
        TENANT_MAX_CONCURRENT_JOBS: "2",
        TENANT_MAX_STORAGE_BYTES: "1073741824",
        TENANT_MAX_VIDEOS_PER_MONTH: "",
        METRICS_TOKEN: "m".repeat(20),
      },
      { secret },
    );
    assert.deepEqual(config.tenantDefaults, {
      concurrentJobs: 2,
      storageBytes: 1073741824,
      videosPerMonth: null,
    });
    assert.equal(config.metricsToken, "m".repeat(20));
    for (const env of [{ TENANT_MAX_CONCURRENT_JOBS: "0" }, { METRICS_TOKEN: "short" }]) {
      assert.throws(() => parseConfig(env, { secret }), ConfigError, JSON.stringify(env));
    }
  });

  it("treats empty strings as unset", () => {
    const config = parseConfig({ DATABASE_URL: "", PUBLIC_BASE_URL: "", RENDER_CONCURRENCY: "" }, { secret });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.publicBaseUrlConfigured, false);
  });

  it("only allows loopback fetches when the test flag is explicitly on", () => {
    assert.equal(
      parseConfig({ PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1" }, { secret }).allowLoopbackFetch,
      true,
    );
    assert.throws(() => parseConfig({ PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "maybe" }, { secret }), ConfigError);
  });
});
