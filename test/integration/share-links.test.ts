/**
 * Share links through the real HTTP stack (inject) on a job row written straight into the
 * database: create/list/revoke, tenant isolation, the page's states (200, 410, 404) and beacons.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { embeddedJobOptions } from "../helpers/pipeline.js";

const FIELDS = "id url variant expiresAt revokedAt views watchSeconds";

describe("share links", () => {
  let app: InProcessApp;
  let tenant: { key: string; tenantId: string };
  let jobId: string;

  before(async () => {
    app = await startInProcessApp({}, { workers: false });
    tenant = await app.newTenant("share-links");
    const campaign = await app.services.campaigns.create(tenant.tenantId, { name: "Share house" });
    const { media } = await app.services.media.store(tenant.tenantId, randomBytes(2048), {
      contentType: "video/mp4",
      maxBytes: 1 << 20,
    });
    const [row] = await app.services.dataSource.query(
      `INSERT INTO video_job (tenant_id, campaign_id, status, options, input_hash, duration_seconds, width, height, video_media_id)
       VALUES ($1, $2, 'SUCCEEDED', $3, 'seed', 6, 1920, 1080, $4) RETURNING id`,
      [tenant.tenantId, campaign.id, JSON.stringify(embeddedJobOptions(3)), media.id],
    );
    jobId = row.id;
  });
  after(async () => app?.close());

  const create = (key: string, input: Record<string, unknown>) =>
    app.graphql<{ createShareLink: { id: string; url: string; views: number; watchSeconds: number } }>(
      key,
      `mutation($input: CreateShareLinkInput!) { createShareLink(input: $input) { ${FIELDS} } }`,
      { input },
    );

  it("creates, lists and revokes; the page answers 200, then 410", async () => {
    const created = await create(tenant.key, { videoJobId: jobId });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const link = created.body.data!.createShareLink;
    const path = new URL(link.url).pathname;
    const page = await app.app.inject({ url: path });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers["cache-control"], "no-store");
    assert.match(page.body, /<meta property="og:video:type" content="video\/mp4">/);

    // Beacons: counters only, capped per beacon, ignored for unknown slugs.
    assert.equal((await app.app.inject({ method: "POST", url: `${path}/view` })).statusCode, 204);
    await app.app.inject({ method: "POST", url: `${path}/watch?seconds=12.5` });
    await app.app.inject({ method: "POST", url: `${path}/watch?seconds=100000` });
    await app.app.inject({ method: "POST", url: `${path}/watch?seconds=-5` });
    await app.app.inject({ method: "POST", url: "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/view" });
    const listed = await app.graphql<{ shareLinks: { id: string; views: number; watchSeconds: number }[] }>(
      tenant.key,
      `query($j: ID!) { shareLinks(videoJobId: $j) { ${FIELDS} } }`,
      { j: jobId },
    );
    assert.deepEqual(
      listed.body.data!.shareLinks.map((each) => [each.id, each.views, each.watchSeconds]),
      [[link.id, 1, 72.5]],
    );

    const media = await app.app.inject({ url: `${path}/media` });
    assert.equal(media.statusCode, 200);
    assert.match(media.json().mp4Url, /\/v1\/media\/[0-9a-f-]+\?token=\d+\.share\./);

    const revoked = await app.graphql<{ revokeShareLink: { revokedAt: string | null } }>(
      tenant.key,
      "mutation($id: ID!) { revokeShareLink(id: $id) { revokedAt } }",
      { id: link.id },
    );
    assert.ok(revoked.body.data?.revokeShareLink.revokedAt, JSON.stringify(revoked.body));
    assert.equal((await app.app.inject({ url: path })).statusCode, 410);
    assert.equal((await app.app.inject({ url: `${path}/media` })).statusCode, 410);
    await app.app.inject({ method: "POST", url: `${path}/view` });
    const after = await app.graphql<{ shareLinks: { views: number }[] }>(
      tenant.key,
      `query($j: ID!) { shareLinks(videoJobId: $j) { views } }`,
      { j: jobId },
    );
    assert.equal(after.body.data!.shareLinks[0]!.views, 1, "a revoked link counts nothing");
  });

  it("answers 410 once expired, and refuses a past expiry", async () => {
    const past = await create(tenant.key, {
      videoJobId: jobId,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    assert.equal(past.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const soon = await create(tenant.key, {
      videoJobId: jobId,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const link = soon.body.data!.createShareLink;
    await app.services.dataSource.query(
      "UPDATE share_link SET expires_at = now() - interval '1 second' WHERE id = $1",
      [link.id],
    );
    assert.equal((await app.app.inject({ url: new URL(link.url).pathname })).statusCode, 410);
  });

  it("treats another tenant's job and link like random ids", async () => {
    const other = await app.newTenant("share-links-other");
    const foreign = await create(other.key, { videoJobId: jobId });
    assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const mine = await create(tenant.key, { videoJobId: jobId });
    const revoke = await app.graphql(other.key, "mutation($id: ID!) { revokeShareLink(id: $id) { id } }", {
      id: mine.body.data!.createShareLink.id,
    });
    assert.equal(revoke.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const unbranded = await create(tenant.key, { videoJobId: jobId, variant: "UNBRANDED" });
    assert.equal(unbranded.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });
});
