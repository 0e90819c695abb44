/**
 * Issue 10, the HTTP half, through the real HTTP stack on a real socket (short timeouts and
 * small bounds so that every case runs in a second or two): slow heads and bodies (ABUSE 42),
 * concurrent uploads (41), malformed multipart (46), token spellings (47), ids in inputs (49),
 * contract gaps (GIF, a rejected only file, webhook-id) and Replicate downloads (51).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { createLogger } from "../../src/logger.js";
import { ReplicateClient } from "../../src/providers/replicate/replicate-client.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { uploadBrandAsset } from "../helpers/listing.js";
import { multipart, type PhotoTenant, pathOf, photoTenant, storageProbe } from "../helpers/photos.js";
import { SAMPLE_LOGO_SVG } from "../helpers/render-fixtures.js";

const IDLE_MS = 1_000;
/** A stalled client is cut off after IDLE_MS; allow for a loaded machine, not for "never". */
const CUT_OFF_WITHIN_MS = IDLE_MS + 2_500;
const PHOTO = readFileSync(fixturePhoto("kitchen-01.jpg"));

/** Opens a socket, writes `head` (and nothing more), and resolves with what came back and when it closed. */
async function stall(address: string, head: string | Buffer): Promise<{ ms: number; answer: string }> {
  const { hostname, port } = new URL(address);
  const socket = net.connect(Number(port), hostname);
  await once(socket, "connect");
  const started = Date.now();
  let answer = "";
  socket.on("data", (chunk: Buffer) => {
    answer += chunk.toString("latin1");
  });
  socket.on("error", () => undefined);
  socket.write(head);
  await once(socket, "close");
  return { ms: Date.now() - started, answer };
}

/** A PUT or POST that sends `opening`, then keeps trickling a byte now and then until `finish()`. */
function trickle(address: string, path: string, headers: Record<string, string>, opening: Buffer) {
  const request = http.request(`${address}${path}`, {
    method: path.startsWith("/v1/uploads") ? "PUT" : "POST",
    headers,
  });
  const response = new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>(
    (resolve) => {
      request.on("response", async (res) => {
        let body = "";
        for await (const chunk of res) body += chunk;
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
      request.on("error", () => resolve({ status: 0, body: "", headers: {} }));
    },
  );
  request.write(opening);
  const timer = setInterval(() => request.write(Buffer.from([0x55])), IDLE_MS / 4);
  return {
    response,
    stop() {
      clearInterval(timer);
      request.destroy();
    },
  };
}

describe("HTTP hardening on a real socket", () => {
  let app: InProcessApp;
  let address: string;
  let logs: string[];
  let alice: PhotoTenant;
  let bob: PhotoTenant;

  before(async () => {
    logs = [];
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => logs.push(...chunk.toString().trim().split("\n")));
    app = await startInProcessApp(
      {
        HTTP_HEADERS_TIMEOUT_MS: String(IDLE_MS),
        HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS),
        UPLOAD_CONCURRENCY: "3",
        UPLOAD_CONCURRENCY_PER_KEY: "2",
      },
      { listen: true, workers: false, logger: createLogger({ level: "info", destination: out }) },
    );
    address = app.baseUrl!;
    alice = await photoTenant(app, "alice");
    bob = await photoTenant(app, "bob");
  });
  after(async () => {
    await app?.close();
  });

  it("closes a connection whose request head stalls, and one whose body stalls (ABUSE 42)", async () => {
    const head = await stall(
      address,
      "POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n",
    );
    assert.ok(head.ms < CUT_OFF_WITHIN_MS, `head stalled ${head.ms} ms before the close`);
    for (const path of ["/graphql", "/v1/webhooks/replicate"]) {
      const body = await stall(
        address,
        `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"query":`,
      );
      assert.ok(body.ms < CUT_OFF_WITHIN_MS, `${path}: body stalled ${body.ms} ms before the close`);
    }
  });

  it("fails a stalled signed upload with a reason, never leaving it PROCESSING (ABUSE 42)", async () => {
    const created = await alice.createUpload({
      campaignId: alice.campaignId,
      filename: "stalled.jpg",
      contentType: "image/jpeg",
      byteSize: PHOTO.length,
    });
    const upload = created.body.data!.createAssetUpload;
    const stalled = await stall(
      address,
      Buffer.concat([
        Buffer.from(
          `PUT ${pathOf(upload.uploadUrl)} HTTP/1.1\r\nHost: x\r\ncontent-length: ${PHOTO.length}\r\n\r\n`,
        ),
        PHOTO.subarray(0, 100_000),
      ]),
    );
    assert.ok(stalled.ms < CUT_OFF_WITHIN_MS, `closed after ${stalled.ms} ms`);
    assert.match(stalled.answer, /^HTTP\/1\.1 408 /);
    assert.match(stalled.answer, /REQUEST_TIMEOUT/);
    const asset = await alice.getAsset(upload.asset.id);
    assert.equal(asset.status, "REJECTED");
    assert.match(asset.rejectionReason ?? "", /stalled: no data arrived for 1 s/);
    await storageProbe(app).assertClean();
  });

  it("answers 408 to a multipart upload that stalls mid-file, storing nothing for it", async () => {
    const before = await storageProbe(app).storage();
    const boundary = "----stall";
    const opening = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="p"; filename="s.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
      PHOTO.subarray(0, 50_000),
    ]);
    const stalled = await stall(
      address,
      Buffer.concat([
        Buffer.from(
          `POST /v1/campaigns/${alice.campaignId}/assets HTTP/1.1\r\nHost: x\r\nx-api-key: ${alice.key}\r\n` +
            `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${PHOTO.length + 500}\r\n\r\n`,
        ),
        opening,
      ]),
    );
    assert.match(stalled.answer, /^HTTP\/1\.1 408 /);
    assert.ok(stalled.ms < CUT_OFF_WITHIN_MS, `closed after ${stalled.ms} ms`);
    assert.deepEqual(await storageProbe(app).storage(), before);
  });

  it("bounds concurrent uploads per key and per process with 429 and Retry-After (ABUSE 41)", async () => {
    const { payload, contentType } = multipart([
      { filename: "a.jpg", contentType: "image/jpeg", bytes: PHOTO },
    ]);
    const opening = payload.subarray(0, 20_000);
    const headers = (key: string) => ({
      "x-api-key": key,
      "content-type": contentType,
      "content-length": String(payload.length + 1_000_000),
    });
    const path = `/v1/campaigns/${alice.campaignId}/assets`;
    const running = [
      trickle(address, path, headers(alice.key), opening),
      trickle(address, path, headers(alice.key), opening),
    ];
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const third = await fetch(`${address}${path}`, {
        method: "POST",
        headers: { "x-api-key": alice.key, "content-type": contentType },
        body: payload,
      })
        .then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get("retry-after"),
          body: await r.text(),
        }))
        .catch((error: Error) => ({ status: 0, retryAfter: null, body: String(error.cause ?? error) }));
      assert.equal(third.status, 429, third.body);
      assert.equal(third.retryAfter, "1");
      assert.match(third.body, /RATE_LIMITED/);
      // Another key still gets in, up to the process bound of 3.
      running.push(trickle(address, `/v1/campaigns/${bob.campaignId}/assets`, headers(bob.key), opening));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const created = await bob.createUpload({
        campaignId: bob.campaignId,
        filename: "b.jpg",
        contentType: "image/jpeg",
        byteSize: PHOTO.length,
      });
      const put = await fetch(`${address}${pathOf(created.body.data!.createAssetUpload.uploadUrl)}`, {
        method: "PUT",
        body: PHOTO,
      });
      assert.equal(put.status, 429, "the process bound");
      assert.equal(
        (await bob.getAsset(created.body.data!.createAssetUpload.asset.id)).status,
        "PENDING_UPLOAD",
        "a refused PUT does not use up its URL",
      );
    } finally {
      for (const upload of running) upload.stop();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await alice.postMultipart([
      { filename: "after.jpg", contentType: "image/jpeg", bytes: PHOTO },
    ]);
    assert.equal(after.status, 200, "slots are given back when uploads end");
  });

  it("answers 400 BAD_USER_INPUT, logged at info, to multipart without a boundary or truncated (ABUSE 46)", async () => {
    const path = `/v1/campaigns/${alice.campaignId}/assets`;
    const { payload, contentType } = multipart([
      { filename: "t.jpg", contentType: "image/jpeg", bytes: PHOTO },
    ]);
    const cases = [
      { contentType: "multipart/form-data", body: payload },
      { contentType: "multipart/form-data; boundary=", body: payload },
      { contentType, body: payload.subarray(0, payload.length - 60) },
      { contentType, body: Buffer.from("not multipart at all") },
    ];
    const before = logs.length;
    for (const [index, sent] of cases.entries()) {
      const response = await app.app.inject({
        method: "POST",
        url: path,
        headers: { "x-api-key": alice.key, "content-type": sent.contentType },
        payload: sent.body,
      });
      assert.equal(response.statusCode, 400, `case ${index}: ${response.body}`);
      assert.equal(
        (response.json() as { error: { code: string } }).error.code,
        "BAD_USER_INPUT",
        `case ${index}`,
      );
    }
    const lines = logs.slice(before).map((line) => JSON.parse(line) as { level: number; msg: string });
    assert.ok(lines.some((line) => line.level === 30 && line.msg === "request refused"));
    assert.equal(lines.filter((line) => line.level >= 50).length, 0, "no error lines");
    await storageProbe(app).assertClean();
  });

  it("answers a multipart upload whose only file is rejected like the signed PUT: 422 (issue 10, 14)", async () => {
    const truncated = PHOTO.subarray(0, Math.floor(PHOTO.length / 3));
    const posted = await alice.postMultipart([
      { filename: "cut.jpg", contentType: "image/jpeg", bytes: truncated },
    ]);
    assert.equal(posted.status, 422, JSON.stringify(posted.body));
    assert.equal(posted.body.results![0]!.error!.code, "MEDIA_REJECTED");
    assert.equal(posted.body.results![0]!.asset!.status, "REJECTED");
    const signed = await alice.uploadSigned("cut-too.jpg", truncated);
    assert.equal(signed.response.statusCode, 422);
    await storageProbe(app).assertClean();
  });

  it("refuses GIF on both upload routes, as the README says", async () => {
    const gif = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#123456" } })
      .gif()
      .toBuffer();
    const posted = await alice.postMultipart([
      { filename: "anim.gif", contentType: "image/gif", bytes: gif },
    ]);
    assert.equal(posted.status, 415);
    assert.match(posted.body.results![0]!.error!.message, /GIF is not accepted/);
    const signed = await alice.uploadSigned("anim.gif", gif, "image/gif");
    assert.equal(signed.response.statusCode, 415);
    assert.equal((await alice.getAsset(signed.upload.asset.id)).status, "REJECTED");
  });

  it("accepts a signed token only as the canonical `token=`, and never logs one (ABUSE 47)", async () => {
    const uploaded = await alice.uploadSigned("token.jpg", PHOTO);
    assert.equal(uploaded.response.statusCode, 200, uploaded.response.body);
    const asset = await alice.getAsset(uploaded.upload.asset.id);
    const url = new URL(asset.url!);
    const token = url.searchParams.get("token")!;
    const mediaPath = url.pathname;
    assert.equal((await fetch(`${address}${mediaPath}?token=${token}`)).status, 200);
    for (const query of [
      `%74oken=${token}`,
      `tok%65n=${token}`,
      `token[]=${token}`,
      `token=${token}&token=${token}`,
      `TOKEN=${token}`,
    ]) {
      const response = await fetch(`${address}${mediaPath}?${query}`);
      assert.equal(response.status, 403, query);
      assert.equal(await response.text(), "", query);
    }
    const created = await alice.createUpload({
      campaignId: alice.campaignId,
      filename: "spelling.jpg",
      contentType: "image/jpeg",
      byteSize: PHOTO.length,
    });
    const uploadUrl = new URL(created.body.data!.createAssetUpload.uploadUrl);
    const uploadToken = uploadUrl.searchParams.get("token")!;
    for (const query of [`%74oken=${uploadToken}`, `token[]=${uploadToken}`]) {
      const response = await fetch(`${address}${uploadUrl.pathname}?${query}`, {
        method: "PUT",
        body: PHOTO,
      });
      assert.equal(response.status, 403, query);
    }
    const everything = logs.join("\n");
    for (const secret of [token, uploadToken, alice.key]) {
      assert.equal(everything.includes(secret), false, "a secret reached the log");
      assert.equal(everything.includes(secret.split(".").pop()!), false, "a signature reached the log");
    }
  });

  it("checks brand.logoAssetId: this tenant's READY logo only (ABUSE 49)", async () => {
    const [listingPhoto] = (await alice.addPhotos(["pool-01.jpg"])).values();
    const logo = await uploadBrandAsset(
      app,
      alice.key,
      alice.campaignId,
      "LOGO",
      "logo.svg",
      Buffer.from(SAMPLE_LOGO_SVG),
      "image/svg+xml",
    );
    const photo = { id: logo };
    const pending = await alice.createUpload({
      campaignId: alice.campaignId,
      filename: "later.jpg",
      contentType: "image/jpeg",
      byteSize: 10,
    });
    const create = (key: string, logoAssetId: string) =>
      app.graphql<{ createCampaign: { id: string; brand: { logoAssetId: string } } }>(
        key,
        `mutation($l: ID) { createCampaign(input: { name: "b", brand: { logoAssetId: $l } }) { id brand { logoAssetId } } }`,
        { l: logoAssetId },
      );
    const own = await create(alice.key, photo!.id);
    assert.equal(own.body.data?.createCampaign.brand.logoAssetId, photo!.id);
    assert.equal((await create(bob.key, photo!.id)).body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    assert.equal((await create(alice.key, "not-an-id")).body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    // a listing photo is not a logo
    assert.equal(
      (await create(alice.key, listingPhoto!.id)).body.errors?.[0]?.extensions?.code,
      "BAD_USER_INPUT",
    );
    assert.equal(
      (await create(alice.key, pending.body.data!.createAssetUpload.asset.id)).body.errors?.[0]?.extensions
        ?.code,
      "BAD_USER_INPUT",
    );
    const updated = await app.graphql(
      bob.key,
      `mutation($id: ID!, $l: ID) { updateCampaign(id: $id, input: { brand: { logoAssetId: $l } }) { id } }`,
      { id: bob.campaignId, l: photo!.id },
    );
    assert.equal(updated.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });

  it("refuses a 4 kB webhook-id before storing anything", async () => {
    const response = await app.app.inject({
      method: "POST",
      url: "/v1/webhooks/replicate",
      headers: { "content-type": "application/json", "webhook-id": `msg_${"x".repeat(4096)}` },
      payload: "{}",
    });
    assert.equal(response.statusCode, 400);
    const stored = await app.services.dataSource.query("SELECT count(*)::int AS n FROM webhook_delivery");
    assert.equal(stored[0].n, 0);
  });
});

describe("Replicate output downloads through the SSRF guard (ABUSE 51)", () => {
  let server: http.Server;
  let base: string;
  let requests = 0;

  before(async () => {
    server = http.createServer((request, response) => {
      requests++;
      if (request.url === "/redirect") response.writeHead(302, { location: "http://127.0.0.1:9/x" }).end();
      else response.writeHead(200, { "content-type": "video/mp4" }).end(randomBytes(1000));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => {
    server.close();
  });

  const client = (hosts: string[], allowLoopbackForTests: boolean) =>
    new ReplicateClient({
      apiToken: "r8_test",
      baseUrl: base,
      backoffMs: 1,
      outputs: { hosts, policy: { allowedPorts: [80, 443], allowLoopbackForTests } },
    });

  it("downloads only from the configured hosts, only to addresses the guard allows, with no redirects", async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "propvid-replicate-download-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "out.mp4");
    await client(["127.0.0.1"], true).download(`${base}/out.mp4`, file);
    assert.equal(readFileSync(file).length, 1000);
    const before = requests;
    await assert.rejects(client(["replicate.delivery"], true).download(`${base}/out.mp4`, file), {
      code: "URL_NOT_ALLOWED",
    });
    await assert.rejects(client(["127.0.0.1"], false).download(`${base}/out.mp4`, file), {
      code: "URL_NOT_ALLOWED",
    });
    assert.equal(requests, before, "no request made to a refused host or address");
    await assert.rejects(client(["127.0.0.1"], true).download(`${base}/redirect`, file), {
      code: "URL_NOT_ALLOWED",
    });
  });
});
