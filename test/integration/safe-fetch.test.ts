/**
 * safeFetch against hostile local servers. Every server listens on 127.0.0.1 and every name
 * resolves (through an injected resolver) to 127.0.0.1: nothing here may reach another address.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import zlib from "node:zlib";
import { AppError } from "../../src/errors.js";
import {
  type HostResolver,
  type SafeFetchOptions,
  safeFetch,
  safeFetchStream,
} from "../../src/media/safe-fetch.js";
import type { OutboundPolicy } from "../../src/media/ssrf-guard.js";

const LOOPBACK_FOR_TESTS: OutboundPolicy = { allowedPorts: [80, 443], allowLoopbackForTests: true };
const PRODUCTION: OutboundPolicy = { allowedPorts: [80, 443], allowLoopbackForTests: false };
const MB = 1024 * 1024;

/** Resolves every name to 127.0.0.1 (or to the given records) and counts lookups. */
function resolverTo(addresses: string[] = ["127.0.0.1"]): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

function options(overrides: Partial<SafeFetchOptions> = {}): SafeFetchOptions {
  return {
    policy: LOOPBACK_FOR_TESTS,
    maxBytes: MB,
    connectTimeoutMs: 1000,
    totalTimeoutMs: 5000,
    lookup: resolverTo(),
    ...overrides,
  };
}

interface TestServer {
  port: number;
  base: string;
  paths: string[];
  connections: number;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<TestServer> {
  const state: TestServer = {
    port: 0,
    base: "",
    paths: [],
    connections: 0,
    sockets: new Set(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of state.sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("connection", (socket: net.Socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on("close", () => state.sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.base = `http://127.0.0.1:${state.port}`;
  return state;
}

async function httpServer(handler: http.RequestListener): Promise<TestServer> {
  let state: TestServer | undefined;
  const server = http.createServer((req, res) => {
    state!.paths.push(req.url ?? "");
    res.on("error", () => {});
    handler(req, res);
  });
  state = await listen(server);
  return state;
}

/** A server speaking raw bytes, for responses node's http server would refuse to send. */
async function rawServer(onRequest: (socket: net.Socket) => void): Promise<TestServer> {
  let state: TestServer | undefined;
  const server = net.createServer((socket) => {
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n\r\n")) {
        socket.off("data", onData);
        state!.paths.push(head.split(" ")[1] ?? "");
        onRequest(socket);
      }
    };
    socket.on("data", onData);
  });
  state = await listen(server);
  return state;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the fetch to fail");
}

/** Writes `chunk` repeatedly with backpressure until `total` bytes (or forever) or the peer goes. */
function pump(res: NodeJS.WritableStream & { destroyed?: boolean }, chunk: Buffer, total = Infinity): void {
  let sent = 0;
  const write = (): void => {
    while (sent < total && !res.destroyed) {
      const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
      sent += piece.length;
      if (!res.write(piece)) {
        res.once("drain", write);
        return;
      }
    }
    if (sent >= total) res.end();
  };
  write();
}

/** Samples RSS while `fn` runs; returns the largest growth over the starting value. */
async function rssGrowthDuring(fn: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - start;
}

describe("safeFetch: allowed fetches", () => {
  let server: TestServer;
  before(async () => {
    server = await httpServer((req, res) => {
      const url = req.url ?? "/";
      if (url.startsWith("/r/")) {
        const n = Number(url.slice(3));
        res.writeHead(
          n < 10 ? 302 : 200,
          n < 10 ? { location: `/r/${n + 1}` } : { "content-type": "image/jpeg" },
        );
        res.end(n < 10 ? "" : "final");
        return;
      }
      if (url === "/gzip") {
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip" });
        res.end(zlib.gzipSync(Buffer.from("<html>compressed anyway</html>")));
        return;
      }
      if (url === "/headers") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(req.headers));
        return;
      }
      if (url === "/missing") {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("nope");
        return;
      }
      res.writeHead(200, { "content-type": "image/jpeg", "content-length": "5" });
      res.end("hello");
    });
  });
  after(() => server.close());

  it("fetches from a loopback server when the test flag allows it", async () => {
    const result = await safeFetch(`${server.base}/photo.jpg`, options());
    assert.equal(result.status, 200);
    assert.equal(result.contentType, "image/jpeg");
    assert.equal(result.body.toString(), "hello");
    assert.equal(result.finalUrl, `${server.base}/photo.jpg`);
    assert.deepEqual(result.redirects, []);
  });

  it("resolves names through the guarded lookup", async () => {
    const lookup = resolverTo();
    const result = await safeFetch(`http://photos.test:${server.port}/photo.jpg`, options({ lookup }));
    assert.equal(result.body.toString(), "hello");
    assert.deepEqual(lookup.calls, ["photos.test"]);
  });

  it("sends identity encoding, a user agent and nothing identifying", async () => {
    const result = await safeFetch(
      `${server.base}/headers`,
      options({ accept: "image/*", userAgent: "propvid-test" }),
    );
    const headers = JSON.parse(result.body.toString()) as Record<string, string>;
    assert.equal(headers["accept-encoding"], "identity");
    assert.equal(headers["accept"], "image/*");
    assert.equal(headers["user-agent"], "propvid-test");
    assert.equal(headers["host"], `127.0.0.1:${server.port}`);
    assert.equal(headers["cookie"], undefined);
    assert.equal(headers["authorization"], undefined);
  });

  it("follows up to five redirects and reports them", async () => {
    const result = await safeFetch(`${server.base}/r/5`, options());
    assert.equal(result.body.toString(), "final");
    assert.equal(result.redirects.length, 5);
    assert.equal(result.finalUrl, `${server.base}/r/10`);
    assert.equal(result.redirects.at(-1), result.finalUrl);
  });

  it("decodes a gzip body the server sent although identity was asked for", async () => {
    const result = await safeFetch(`${server.base}/gzip`, options());
    assert.equal(result.body.toString(), "<html>compressed anyway</html>");
  });

  it("returns non-2xx statuses to the caller", async () => {
    const result = await safeFetch(`${server.base}/missing`, options());
    assert.equal(result.status, 404);
    assert.equal(result.body.toString(), "nope");
  });

  it("refuses unexpected content types before reading the body", async () => {
    const error = await rejection(
      safeFetch(`${server.base}/headers`, options({ allowedContentTypes: ["image/"] })),
    );
    assert.equal(error.code, "UNSUPPORTED_MEDIA_TYPE");
    const ok = await safeFetch(`${server.base}/photo.jpg`, options({ allowedContentTypes: ["image/jpeg"] }));
    assert.equal(ok.body.toString(), "hello");
  });

  it("is cancelled by its AbortSignal", async () => {
    const already = await rejection(
      safeFetch(`${server.base}/photo.jpg`, options({ signal: AbortSignal.abort() })),
    );
    assert.equal(already.code, "CANCELLED");
  });
});

describe("safeFetch: SSRF (ABUSE 19–23)", () => {
  let server: TestServer;
  let target: string;
  before(async () => {
    server = await httpServer((req, res) => {
      const url = req.url ?? "/";
      if (url.startsWith("/to?")) {
        res.writeHead(302, { location: decodeURIComponent(url.slice(4)) });
        res.end();
        return;
      }
      if (url.startsWith("/r/")) {
        const n = Number(url.slice(3));
        res.writeHead(302, { location: `/r/${n + 1}` });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "image/jpeg" });
      res.end("should never be served");
    });
    target = `${server.base}/photo.jpg`;
  });
  after(() => server.close());

  it("blocks loopback literals without the test flag, before connecting", async () => {
    const before = server.connections;
    for (const url of [
      target,
      `http://127.1:${server.port}/`,
      `http://2130706433:${server.port}/`,
      "http://[::1]/",
    ]) {
      const error = await rejection(safeFetch(url, options({ policy: PRODUCTION })));
      assert.equal(error.code, "URL_NOT_ALLOWED", url);
    }
    const error = await rejection(
      safeFetch(target, options({ policy: { ...PRODUCTION, allowedPorts: [server.port] } })),
    );
    assert.equal(error.details?.reason, "address-not-public");
    assert.equal(server.connections, before, "the server saw no connection");
  });

  it("blocks a name that resolves to a loopback address (ABUSE 21), before connecting", async () => {
    const before = server.connections;
    const lookup = resolverTo(["127.0.0.1"]);
    const policy = { ...PRODUCTION, allowedPorts: [server.port] };
    const error = await rejection(
      safeFetch(`http://photos.test:${server.port}/photo.jpg`, options({ policy, lookup })),
    );
    assert.equal(error.code, "URL_NOT_ALLOWED");
    assert.equal(error.details?.reason, "address-not-public");
    assert.deepEqual(lookup.calls, ["photos.test"]);
    const local = await rejection(safeFetch(`http://localhost:${server.port}/`, options({ policy, lookup })));
    assert.equal(local.code, "URL_NOT_ALLOWED");
    assert.equal(server.connections, before);
  });

  it("refuses a name when any of its records is private, even with the test flag", async () => {
    const before = server.connections;
    const lookup = resolverTo(["127.0.0.1", "10.0.0.1"]);
    const error = await rejection(safeFetch(`http://photos.test:${server.port}/`, options({ lookup })));
    assert.equal(error.code, "URL_NOT_ALLOWED");
    assert.equal(error.details?.addressClass, "private");
    assert.equal(server.connections, before);
  });

  it("checks the connected address again, before sending anything (rebinding)", async () => {
    // The policy says "loopback allowed" when the lookup asks and "not allowed" from then on: the
    // same outcome as a resolver answer that differs from the address the socket reaches.
    let reads = 0;
    const policy: OutboundPolicy = {
      allowedPorts: [server.port],
      get allowLoopbackForTests() {
        reads++;
        return reads === 1;
      },
    };
    const connectionsBefore = server.connections;
    server.paths.length = 0;
    const error = await rejection(
      safeFetch(`http://photos.test:${server.port}/photo.jpg`, options({ policy })),
    );
    assert.equal(error.code, "URL_NOT_ALLOWED");
    assert.equal(error.details?.reason, "address-not-public");
    assert.equal(reads, 2, "checked at lookup and after connect");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.connections, connectionsBefore + 1, "the socket did connect");
    assert.deepEqual(server.paths, [], "but no request was sent");
  });

  it("fails a name that does not resolve", async () => {
    const error = await rejection(
      safeFetch(`http://photos.test:${server.port}/`, options({ lookup: resolverTo([]) })),
    );
    assert.equal(error.code, "FETCH_FAILED");
  });

  for (const location of [
    "http://10.0.0.1/photo.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://0xa9fea9fe/",
    "http://[fd00::1]/",
    "http://[::ffff:10.0.0.1]/",
  ]) {
    it(`blocks a redirect to ${location} at that hop (ABUSE 22)`, async () => {
      const error = await rejection(
        safeFetch(`${server.base}/to?${encodeURIComponent(location)}`, options()),
      );
      assert.equal(error.code, "URL_NOT_ALLOWED");
      assert.equal(error.details?.reason, "address-not-public");
    });
  }

  it("blocks redirects to other schemes, credentials and ports", async () => {
    const cases: [string, string][] = [
      ["file:///etc/passwd", "scheme-not-allowed"],
      ["gopher://127.0.0.1:70/_x", "scheme-not-allowed"],
      [`http://user:pw@127.0.0.1:${server.port}/`, "credentials-in-url"],
      // A public literal on a port outside the policy: refused before any connection.
      ["http://93.184.216.34:8080/", "port-not-allowed"],
    ];
    for (const [location, reason] of cases) {
      const error = await rejection(
        safeFetch(`${server.base}/to?${encodeURIComponent(location)}`, options()),
      );
      assert.equal(error.code, "URL_NOT_ALLOWED", location);
      assert.equal(error.details?.reason, reason, location);
    }
  });

  it("blocks the sixth redirect at that hop and never requests its target", async () => {
    server.paths.length = 0;
    const error = await rejection(safeFetch(`${server.base}/r/0`, options()));
    assert.equal(error.code, "URL_NOT_ALLOWED");
    assert.equal(error.details?.reason, "too-many-redirects");
    assert.deepEqual(server.paths, ["/r/0", "/r/1", "/r/2", "/r/3", "/r/4", "/r/5"]);
  });

  it("honours a smaller redirect limit", async () => {
    server.paths.length = 0;
    const error = await rejection(safeFetch(`${server.base}/r/0`, options({ maxRedirects: 0 })));
    assert.equal(error.details?.reason, "too-many-redirects");
    assert.deepEqual(server.paths, ["/r/0"]);
  });
});

describe("safeFetch: hostile servers (ABUSE 24)", () => {
  const zeros = Buffer.alloc(64 * 1024);
  const gzipMember = zlib.gzipSync(Buffer.alloc(4 * MB), { level: 9 });
  let server: TestServer;
  let raw: TestServer;
  before(async () => {
    server = await httpServer((req, res) => {
      switch (req.url) {
        case "/silent-headers":
          res.writeHead(200, { "content-type": "image/jpeg" });
          res.flushHeaders();
          return; // headers, then nothing
        case "/no-response":
          return;
        case "/trickle": {
          res.writeHead(200, { "content-type": "image/jpeg" });
          const timer = setInterval(() => res.write("x"), 20);
          res.on("close", () => clearInterval(timer));
          return;
        }
        case "/endless":
          res.writeHead(200, { "content-type": "image/jpeg" });
          pump(res, zeros);
          return;
        case "/gzip-bomb":
          res.writeHead(200, { "content-type": "image/jpeg", "content-encoding": "gzip" });
          pump(res, gzipMember); // concatenated gzip members: each inflates to 4 MB
          return;
        case "/double-gzip":
          res.writeHead(200, { "content-type": "image/jpeg", "content-encoding": "gzip, gzip" });
          res.end(zlib.gzipSync(zlib.gzipSync("x")));
          return;
        case "/corrupt-gzip":
          res.writeHead(200, { "content-type": "image/jpeg", "content-encoding": "gzip" });
          res.end(Buffer.from("this is not gzip at all"));
          return;
        case "/declared-60mb":
          res.writeHead(200, { "content-type": "image/jpeg", "content-length": String(60 * MB) });
          pump(res, zeros, 60 * MB);
          return;
        case "/chunked-60mb":
          res.writeHead(200, { "content-type": "image/jpeg" });
          pump(res, zeros, 60 * MB);
          return;
        case "/ten-mb":
          res.writeHead(200, { "content-type": "image/jpeg", "content-length": String(10 * MB) });
          pump(res, zeros, 10 * MB);
          return;
      }
      res.writeHead(404);
      res.end();
    });
    raw = await rawServer((socket) => {
      const path = raw.paths.at(-1);
      if (path === "/short-declared") {
        // Declares 10 bytes, then keeps sending.
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 10\r\n\r\n");
        pump(socket, zeros, 4 * MB);
      } else if (path === "/long-declared") {
        // Declares 1000 bytes, sends 10 and hangs up.
        socket.end("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n0123456789");
      } else if (path === "/huge-declared") {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: ${100 * MB}\r\n\r\n`);
        pump(socket, zeros, 100 * MB);
      } else if (path === "/overflowing-declared") {
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: ${"9".repeat(20)}\r\n\r\n`,
        );
        pump(socket, zeros, 4 * MB);
      } else if (path === "/cl-and-chunked") {
        socket.end(
          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        );
      } else if (path === "/huge-headers") {
        socket.write("HTTP/1.1 200 OK\r\n");
        pump(socket, Buffer.from(`X-Filler: ${"a".repeat(1000)}\r\n`), 4 * MB);
      } else {
        socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      }
    });
  });
  after(async () => {
    await server.close();
    await raw.close();
  });

  it("times out a server that sends headers and then nothing (idle)", async () => {
    const started = Date.now();
    const error = await rejection(
      safeFetch(`${server.base}/silent-headers`, options({ idleTimeoutMs: 200 })),
    );
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.details?.phase, "idle");
    assert.ok(Date.now() - started < 2000);
  });

  it("times out a server that never answers (idle)", async () => {
    const error = await rejection(safeFetch(`${server.base}/no-response`, options({ idleTimeoutMs: 200 })));
    assert.equal(error.code, "TIMEOUT");
  });

  it("times out a trickling body on the total deadline", async () => {
    const started = Date.now();
    const error = await rejection(
      safeFetch(`${server.base}/trickle`, options({ idleTimeoutMs: 1000, totalTimeoutMs: 500 })),
    );
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.details?.phase, "total");
    assert.ok(Date.now() - started < 2000);
  });

  it("times out a connection that cannot be made (a lookup that never answers)", async () => {
    const lookup: HostResolver = () => new Promise(() => {});
    const started = Date.now();
    const error = await rejection(
      safeFetch(`http://photos.test:${server.port}/`, options({ lookup, connectTimeoutMs: 200 })),
    );
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.details?.phase, "connect");
    assert.ok(Date.now() - started < 2000);
  });

  it("stops an endless body at the cap", async () => {
    const started = Date.now();
    const error = await rejection(safeFetch(`${server.base}/endless`, options({ maxBytes: 2 * MB })));
    assert.equal(error.code, "PAYLOAD_TOO_LARGE");
    assert.ok(Date.now() - started < 2000);
  });

  it("reads no more than a short Content-Length promises", async () => {
    const result = await safeFetch(`${raw.base}/short-declared`, options());
    assert.equal(result.body.length, 10);
  });

  it("fails a body shorter than its Content-Length", async () => {
    const error = await rejection(safeFetch(`${raw.base}/long-declared`, options()));
    assert.equal(error.code, "FETCH_FAILED");
  });

  it("refuses a declared length above the cap before reading the body", async () => {
    const started = Date.now();
    const error = await rejection(safeFetch(`${raw.base}/huge-declared`, options()));
    assert.equal(error.code, "PAYLOAD_TOO_LARGE");
    assert.ok(Date.now() - started < 1000);
  });

  it("fails on responses the HTTP parser refuses (overflowing length, smuggling, huge headers)", async () => {
    for (const path of ["/overflowing-declared", "/cl-and-chunked", "/huge-headers"]) {
      const error = await rejection(safeFetch(`${raw.base}${path}`, options()));
      assert.equal(error.code, "FETCH_FAILED", path);
    }
  });

  it("stops a gzip bomb at the decoded cap, with flat memory", async () => {
    let error: AppError | undefined;
    const growth = await rssGrowthDuring(async () => {
      error = await rejection(safeFetch(`${server.base}/gzip-bomb`, options({ maxBytes: 20 * MB })));
    });
    assert.equal(error?.code, "PAYLOAD_TOO_LARGE");
    assert.ok(growth < 64 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  });

  it("refuses stacked and corrupt content encodings", async () => {
    const stacked = await rejection(safeFetch(`${server.base}/double-gzip`, options()));
    assert.equal(stacked.code, "FETCH_FAILED");
    assert.equal(stacked.details?.reason, "unsupported-content-encoding");
    const corrupt = await rejection(safeFetch(`${server.base}/corrupt-gzip`, options()));
    assert.equal(corrupt.code, "FETCH_FAILED");
    assert.equal(corrupt.details?.reason, "invalid-content-encoding");
  });

  it("refuses a declared 60 MB body against a 20 MB cap without reading it", async () => {
    const error = await rejection(safeFetch(`${server.base}/declared-60mb`, options({ maxBytes: 20 * MB })));
    assert.equal(error.code, "PAYLOAD_TOO_LARGE");
  });

  it("aborts an undeclared 60 MB body at 20 MB, buffered or streamed, with flat memory", async () => {
    const growth = await rssGrowthDuring(async () => {
      const buffered = await rejection(
        safeFetch(`${server.base}/chunked-60mb`, options({ maxBytes: 20 * MB })),
      );
      assert.equal(buffered.code, "PAYLOAD_TOO_LARGE");

      const streamed = await safeFetchStream(`${server.base}/chunked-60mb`, options({ maxBytes: 20 * MB }));
      let received = 0;
      const error = await rejection(
        (async () => {
          for await (const chunk of streamed.body) received += (chunk as Buffer).length;
        })(),
      );
      assert.equal(error.code, "PAYLOAD_TOO_LARGE");
      assert.ok(received <= 20 * MB, `received ${received}`);
    });
    assert.ok(growth < 64 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  });

  it("streams a body under the cap and releases the connection when the consumer stops", async () => {
    const result = await safeFetchStream(`${server.base}/ten-mb`, options({ maxBytes: 20 * MB }));
    assert.equal(result.contentLength, 10 * MB);
    let received = 0;
    for await (const chunk of result.body) {
      received += (chunk as Buffer).length;
      if (received > MB) break; // leaving the loop destroys the stream
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.sockets.size, 0, "the upstream connection was closed");
  });
});

describe("safeFetch over TLS", () => {
  let dir: string | undefined;
  let server: https.Server | undefined;
  let port = 0;
  let ca = "";
  before(async () => {
    try {
      dir = mkdtempSync(path.join(tmpdir(), "safe-fetch-tls-"));
      // A throwaway self-signed certificate, generated for this run only.
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=photos.test",
          "-addext",
          "subjectAltName=DNS:photos.test",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
    } catch (error) {
      // Never skipped quietly: a machine without openssl fails here (.ci/run installs it).
      throw new Error("the TLS tests need openssl to make a throwaway certificate", { cause: error });
    }
    ca = readFileSync(path.join(dir, "cert.pem"), "utf8");
    server = https.createServer({ key: readFileSync(path.join(dir, "key.pem")), cert: ca }, (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg" });
      res.end("secure");
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    if (server) await new Promise((resolve) => server!.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("fetches over TLS after checking the connected address", async () => {
    const result = await safeFetch(`https://photos.test:${port}/p.jpg`, options({ ca }));
    assert.equal(result.body.toString(), "secure");
  });

  it("fails on a certificate that does not match the name", async () => {
    const error = await rejection(safeFetch(`https://other.test:${port}/p.jpg`, options({ ca })));
    assert.equal(error.code, "FETCH_FAILED");
    assert.equal(error.details?.reason, "tls-failed");
  });

  it("fails on an untrusted certificate", async () => {
    const error = await rejection(safeFetch(`https://photos.test:${port}/p.jpg`, options()));
    assert.equal(error.code, "FETCH_FAILED");
  });
});
