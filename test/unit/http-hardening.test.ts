/**
 * The pure parts of issue 10's HTTP hardening: how query parameters are read (the token's one
 * accepted spelling, ABUSE 47), what the log redacts, the upload concurrency bound, the new
 * settings, the first-start banner, and the Replicate output host list.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { bootstrapKeyBanner } from "../../src/bootstrap-key.js";
import { ConfigError, parseConfig } from "../../src/config.js";
import { parameterName, queryParameters, signedUrlToken } from "../../src/http/query-string.js";
import { UploadSlots } from "../../src/http/upload-slots.js";
import { createLogger, redactUrl } from "../../src/logger.js";
import { hostAllowed } from "../../src/providers/replicate/replicate-client.js";

const TOKEN = "1893456000.view.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdE";
/** Shaped like an API key; not one. */
const KEY = `pv_0123456789_${"Q".repeat(43)}`;

describe("query parameters as a server reads them", () => {
  it("names a parameter the way parsers do: decoded, lower case, without a [] suffix", () => {
    for (const raw of [
      "token",
      "%74oken",
      "tok%65n",
      "TOKEN",
      "token[]",
      "token%5B%5D",
      "token[0]",
      "to%6Ben",
    ]) {
      assert.equal(parameterName(raw), "token", raw);
    }
    assert.equal(parameterName("tokens"), "tokens");
    assert.equal(parameterName("%zz"), "%zz", "a malformed escape stays as written");
  });

  it("splits a query into parameters with their value positions", () => {
    const query = "a=1&&token=x&flag&b=";
    assert.deepEqual(
      queryParameters(query).map((p) => [
        p.raw,
        p.valueStart === -1 ? null : query.slice(p.valueStart, p.end),
      ]),
      [
        ["a", "1"],
        ["token", "x"],
        ["flag", null],
        ["b", ""],
      ],
    );
  });

  it("accepts a signed URL's token only as one canonical `token=` (ABUSE 47)", () => {
    assert.deepEqual(signedUrlToken(`/v1/media/x?token=${TOKEN}`), { kind: "token", token: TOKEN });
    assert.deepEqual(signedUrlToken(`/v1/media/x?download=1&token=${TOKEN}`), {
      kind: "token",
      token: TOKEN,
    });
    assert.deepEqual(signedUrlToken("/v1/media/x"), { kind: "none" });
    assert.deepEqual(signedUrlToken("/v1/media/x?download=1"), { kind: "none" });
    for (const query of [
      `%74oken=${TOKEN}`,
      `tok%65n=${TOKEN}`,
      `TOKEN=${TOKEN}`,
      `token[]=${TOKEN}`,
      `token=${TOKEN}&token=${TOKEN}`,
      `token=${TOKEN}&%74oken=x`,
      "token",
      `token=${TOKEN.replace(".", "%2E")}`,
    ]) {
      assert.deepEqual(signedUrlToken(`/v1/media/x?${query}`), { kind: "refused" }, query);
    }
  });
});

describe("log redaction", () => {
  it("redacts secret parameters however they are spelled, and API keys anywhere", () => {
    for (const spelling of [
      "token",
      "%74oken",
      "tok%65n",
      "token[]",
      "TOKEN",
      "api_key",
      "x-api-key",
      "sig",
    ]) {
      const text = `GET /v1/media/abc?download=1&${spelling}=${TOKEN}&x=2 200`;
      const redacted = redactUrl(text);
      assert.equal(redacted.includes(TOKEN), false, spelling);
      assert.ok(redacted.includes(`&${spelling}=[REDACTED]&x=2 200`), redacted);
    }
    assert.equal(redactUrl(`bad key ${KEY} given`), "bad key pv_0123456789_[REDACTED] given");
    assert.equal(redactUrl("/v1/media/abc?download=1"), "/v1/media/abc?download=1");
  });

  it("redacts URLs in the message, in string fields and in the request serializer", async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on("data", (chunk: Buffer) => lines.push(...chunk.toString().trim().split("\n")));
    const logger = createLogger({ level: "info", destination: out });
    const fields = { source: `https://example.test/p?%74oken=${TOKEN}` };
    logger.info(fields, `fetched https://example.test/p?tok%65n=${TOKEN}`);
    logger.info({ req: { method: "GET", url: `/v1/media/a?token[]=${TOKEN}`, id: "r1" } }, "incoming");
    logger.info({ apiKey: KEY, nested: { token: TOKEN } }, `key ${KEY}`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.equal(line.includes(TOKEN), false, line);
      assert.equal(line.includes("Q".repeat(43)), false, line);
    }
    assert.equal(fields.source.includes(TOKEN), true, "the caller's object is not changed");
  });
});

describe("upload slots", () => {
  it("bounds uploads per key and per process, and frees a slot once", () => {
    const slots = new UploadSlots({ concurrency: 3, concurrencyPerKey: 2 });
    const a1 = slots.acquire("a");
    slots.acquire("a");
    assert.throws(
      () => slots.acquire("a"),
      (error: { code?: string; details?: Record<string, unknown> }) =>
        error.code === "RATE_LIMITED" && error.details?.retryAfterSeconds === 1,
    );
    slots.acquire("b");
    assert.throws(() => slots.acquire("c"), { code: "RATE_LIMITED" }, "the process bound");
    a1();
    a1(); // a second release changes nothing
    assert.equal(slots.running, 2);
    slots.acquire("c");
    assert.throws(() => slots.acquire("d"), { code: "RATE_LIMITED" });
  });
});

describe("hardening settings", () => {
  const secret = () => "s".repeat(40);

  it("has the documented defaults", () => {
    const config = parseConfig({ PROPVID_DATA_DIR: "/srv/propvid" }, { secret });
    assert.deepEqual(config.http, {
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      requestTimeoutMs: 600_000,
    });
    assert.deepEqual(config.uploads, { concurrency: 16, concurrencyPerKey: 8 });
    assert.equal(config.shutdownTimeoutMs, 15_000);
    assert.equal(config.workDir, "/srv/propvid/work");
    assert.deepEqual(config.replicate.outputHosts, ["replicate.delivery", "*.replicate.delivery"]);
  });

  it("reads them and refuses nonsense", () => {
    const config = parseConfig(
      {
        HTTP_HEADERS_TIMEOUT_MS: "2000",
        HTTP_IDLE_TIMEOUT_MS: "5000",
        HTTP_REQUEST_TIMEOUT_MS: "0",
        PROPVID_WORK_DIR: "/tmp/propvid-work",
        REPLICATE_OUTPUT_HOSTS: " Replicate.Delivery , 127.0.0.1 ",
      },
      { secret },
    );
    assert.deepEqual(config.http, { headersTimeoutMs: 2000, idleTimeoutMs: 5000, requestTimeoutMs: 0 });
    assert.equal(config.workDir, "/tmp/propvid-work");
    assert.deepEqual(config.replicate.outputHosts, ["replicate.delivery", "127.0.0.1"]);
    for (const env of [
      { HTTP_IDLE_TIMEOUT_MS: "10" },
      { UPLOAD_CONCURRENCY: "0" },
      { HTTP_HEADERS_TIMEOUT_MS: "20000", HTTP_REQUEST_TIMEOUT_MS: "10000" },
      { REPLICATE_OUTPUT_HOSTS: "http://evil.test/" },
      { REPLICATE_OUTPUT_HOSTS: "" },
    ]) {
      assert.throws(() => parseConfig(env, { secret }), ConfigError, JSON.stringify(env));
    }
  });
});

describe("the first-start banner on a terminal", () => {
  it("shows the key exactly once; the curl line uses it by name", () => {
    const banner = bootstrapKeyBanner(KEY, "http://127.0.0.1:4000");
    assert.equal(banner.split(KEY).length - 1, 1);
    assert.match(banner, /export PROPVID_KEY=pv_/);
    assert.match(banner, /-H "x-api-key: \$PROPVID_KEY"/);
  });
});

describe("Replicate output hosts", () => {
  it("matches exact names and *.domain subdomains only", () => {
    const hosts = ["replicate.delivery", "*.replicate.delivery"];
    assert.ok(hostAllowed("replicate.delivery", hosts));
    assert.ok(hostAllowed("pbxt.replicate.delivery", hosts));
    assert.ok(hostAllowed("PBXT.Replicate.Delivery.", hosts));
    for (const host of ["evilreplicate.delivery", "replicate.delivery.evil.test", "127.0.0.1", "delivery"]) {
      assert.equal(hostAllowed(host, hosts), false, host);
    }
  });
});
