import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { PAGE_SECURITY_POLICY } from "../../src/http/static.routes.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { PROJECT_ROOT } from "../helpers/fixtures.js";

/**
 * How the service serves the built console (dist/console) and GraphiQL (dist/graphiql): cache
 * headers, client-route fallback, and the API paths it must never shadow.
 */

const IMMUTABLE = "public, max-age=31536000, immutable";

function scriptsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/[^"]+\.js)"/g)].map((match) => match[1]!);
}

describe("the web console's static files", () => {
  let app: InProcessApp;
  let production: InProcessApp;

  before(async () => {
    assert.ok(
      existsSync(path.join(PROJECT_ROOT, "dist", "console", "index.html")),
      "npm run build built the console",
    );
    [app, production] = await Promise.all([
      startInProcessApp({}, { workers: false }),
      startInProcessApp({ NODE_ENV: "production" }, { workers: false }),
    ]);
  });
  after(async () => {
    await app?.close();
    await production?.close();
  });

  it("answers / and every client route with index.html, revalidated, under a same-origin CSP", async () => {
    for (const url of [
      "/",
      "/campaigns/0b7c8f9e-2f4e-4a51-9d1e-3b7f0e8a9c21",
      "/jobs/x?tab=1",
      "/anything/else",
    ]) {
      const response = await app.app.inject({ method: "GET", url, headers: { accept: "text/html" } });
      assert.equal(response.statusCode, 200, url);
      assert.match(String(response.headers["content-type"]), /^text\/html/);
      assert.equal(response.headers["cache-control"], "no-cache");
      assert.equal(response.headers["content-security-policy"], PAGE_SECURITY_POLICY);
      assert.match(response.body, /<div id="root"><\/div>/);
    }
    const head = await app.app.inject({ method: "HEAD", url: "/campaigns" });
    assert.equal(head.statusCode, 200);
  });

  it("caches content-hashed assets for a year and sends the precompressed copy when accepted", async () => {
    const html = (await app.app.inject({ method: "GET", url: "/" })).body;
    const scripts = scriptsOf(html);
    assert.ok(scripts.length > 0, html);
    for (const script of scripts) {
      const plain = await app.app.inject({ method: "GET", url: script });
      assert.equal(plain.statusCode, 200, script);
      assert.equal(plain.headers["cache-control"], IMMUTABLE);
      assert.match(String(plain.headers["content-type"]), /javascript/);
      assert.equal(plain.headers["content-encoding"], undefined);
      if (plain.rawPayload.length < 1024) continue;
      const brotli = await app.app.inject({
        method: "GET",
        url: script,
        headers: { "accept-encoding": "gzip, br" },
      });
      assert.equal(brotli.headers["content-encoding"], "br");
      assert.equal(brotli.headers["cache-control"], IMMUTABLE);
      assert.match(String(brotli.headers.vary), /accept-encoding/i);
      assert.ok(brotli.rawPayload.length < plain.rawPayload.length / 2);
    }
  });

  it("never shadows the API: unknown API paths and missing files stay a JSON 404", async () => {
    for (const [method, url] of [
      ["GET", "/v1/nothing-here"],
      ["GET", "/v1/media/not-a-media-id/extra/more"],
      ["POST", "/v1/nothing"],
      ["GET", "/assets/missing-0000.js"],
      ["GET", "/favicon.ico"],
      ["POST", "/campaigns"],
      ["GET", "/metrics/x"],
    ] as const) {
      const response = await app.app.inject({ method, url, headers: { accept: "text/html" } });
      assert.equal(response.statusCode, 404, `${method} ${url}`);
      assert.equal(response.json().error.code, "NOT_FOUND", `${method} ${url}`);
    }
    assert.deepEqual((await app.app.inject({ method: "GET", url: "/healthz" })).json(), { status: "ok" });
    assert.equal((await app.app.inject({ method: "GET", url: "/readyz" })).statusCode, 200);
    const unauthenticated = await app.app.inject({
      method: "POST",
      url: "/graphql",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ query: "{ viewer { tenant { name } } }" }),
    });
    assert.equal(unauthenticated.statusCode, 401);
  });

  it("serves GraphiQL at /graphiql and sends a browser at /graphql there (no CDN landing page)", async () => {
    const browser = await app.app.inject({
      method: "GET",
      url: "/graphql",
      headers: { accept: "text/html" },
    });
    assert.equal(browser.statusCode, 302);
    assert.equal(browser.headers.location, "/graphiql");
    for (const url of ["/graphiql", "/graphiql/"]) {
      const page = await app.app.inject({ method: "GET", url });
      assert.equal(page.statusCode, 200, url);
      assert.equal(page.headers["cache-control"], "no-cache");
      assert.doesNotMatch(page.body, /https?:\/\//, "nothing from another origin");
      for (const script of scriptsOf(page.body)) {
        assert.ok(script.startsWith("/graphiql/assets/"), script);
        const asset = await app.app.inject({ method: "GET", url: script });
        assert.equal(asset.statusCode, 200, script);
        assert.equal(asset.headers["cache-control"], IMMUTABLE);
      }
    }
  });

  it("in production: the console yes, GraphiQL and the landing page no", async () => {
    assert.equal((await production.app.inject({ method: "GET", url: "/" })).statusCode, 200);
    for (const url of ["/graphiql", "/graphiql/", "/graphiql/index.html"]) {
      const response = await production.app.inject({ method: "GET", url, headers: { accept: "text/html" } });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error.code, "NOT_FOUND");
    }
    const browser = await production.app.inject({
      method: "GET",
      url: "/graphql",
      headers: { accept: "text/html" },
    });
    assert.equal(browser.statusCode, 401);
    assert.doesNotMatch(browser.body, /<html/i);
  });
});
