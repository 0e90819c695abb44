import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { campaignWithPhotos } from "../helpers/pipeline.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

type Gql = InProcessApp["graphql"];

async function createEndpoint(
  graphql: Gql,
  key: string,
  url: string,
  events: string[],
): Promise<{ id: string; secret: string }> {
  const created = await graphql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
    key,
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`,
    { input: { url, events } },
  );
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
  return { id: endpoint.id, secret };
}

async function sendTest(graphql: Gql, key: string, endpointId: string): Promise<string> {
  const sent = await graphql<{ sendTestWebhook: { id: string } }>(
    key,
    `mutation($e: ID!) { sendTestWebhook(endpointId: $e) { id } }`,
    { e: endpointId },
  );
  assert.equal(sent.body.errors, undefined, JSON.stringify(sent.body.errors));
  return sent.body.data!.sendTestWebhook.id;
}

/** Endpoints, secrets, the delivery log and the outbox, against the real app and a verifying receiver. */
describe("partner webhook endpoints", () => {
  let app: InProcessApp;
  let receiver: WebhookReceiver;
  let url: string;
  let key: string;
  let tenantId: string;

  before(async () => {
    receiver = new WebhookReceiver();
    url = await receiver.start();
    app = await startInProcessApp({ PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "true" });
    ({ key, tenantId } = await app.newTenant("partner"));
  });
  after(async () => {
    await app?.close();
    await receiver?.stop();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.secrets.length = 0;
    receiver.answer = () => 200;
  });

  it("refuses internal and non-web URLs, and shows the secret only once", async () => {
    for (const bad of ["http://10.0.0.8/hook", "http://169.254.169.254/latest", "ftp://example.com/x"]) {
      const refused = await app.graphql(
        key,
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
        { input: { url: bad, events: ["ASSET_READY"] } },
      );
      assert.equal(refused.body.errors?.[0]?.extensions?.code, "URL_NOT_ALLOWED", bad);
    }
    const { id, secret } = await createEndpoint(app.graphql, key, url, ["ASSET_READY"]);
    const listed = await app.graphql<{ webhookEndpoints: Record<string, unknown>[] }>(
      key,
      "{ webhookEndpoints { id url enabled } }",
    );
    assert.ok(listed.body.data!.webhookEndpoints.some((endpoint) => endpoint.id === id));
    assert.ok(!JSON.stringify(listed.body).includes(secret.slice(6)), "the secret is never returned again");
    const [row] = await app.services.dataSource.query(
      "SELECT secret_ciphertext FROM webhook_endpoint WHERE id = $1",
      [id],
    );
    assert.ok(!row.secret_ciphertext.includes(secret.slice(6)), "stored sealed, not in the clear");
  });

  it("delivers ASSET_READY in the transaction that made the photo ready", async () => {
    const { id, secret } = await createEndpoint(app.graphql, key, `${url}/assets`, ["ASSET_READY"]);
    receiver.secrets.push(secret);
    const { assetIds } = await campaignWithPhotos(app.services, tenantId, ["living-01.jpg"]);
    const [delivery] = await receiver.waitFor(
      1,
      (request) => request.path === "/hooks/assets" && JSON.parse(request.body).data.id === assetIds[0],
    );
    assert.deepEqual(delivery!.verifiedWith, [secret]);
    const body = JSON.parse(delivery!.body);
    assert.equal(body.type, "asset.ready");
    assert.equal(body.data.status, "READY");
    await app.graphql(key, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
  });

  it("signs with the new and the old secret after a rotation, and with the new one only after the grace period", async () => {
    const { id, secret: old } = await createEndpoint(app.graphql, key, `${url}/rotation`, [
      "IMPORT_COMPLETED",
    ]);
    const rotated = await app.graphql<{
      rotateWebhookSecret: { secret: string; endpoint: { previousSecretExpiresAt: string } };
    }>(
      key,
      `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretExpiresAt } } }`,
      {
        id,
      },
    );
    assert.equal(rotated.body.errors, undefined, JSON.stringify(rotated.body.errors));
    const { secret: fresh, endpoint } = rotated.body.data!.rotateWebhookSecret;
    assert.notEqual(fresh, old);
    const grace = Date.parse(endpoint.previousSecretExpiresAt) - Date.now();
    assert.ok(grace > 23.9 * 3600_000 && grace <= 24 * 3600_000, "24 h grace");
    receiver.secrets.push(old, fresh);

    await sendTest(app.graphql, key, id);
    const [during] = await receiver.waitFor(1, WebhookReceiver.to("/hooks/rotation"));
    assert.deepEqual(during!.verifiedWith.sort(), [old, fresh].sort(), "either secret verifies");
    assert.equal(during!.signature.split(" ").length, 2);
    assert.equal(JSON.parse(during!.body).type, "webhook.test");

    await app.services.dataSource.query(
      "UPDATE webhook_endpoint SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1",
      [id],
    );
    await sendTest(app.graphql, key, id);
    const [, afterGrace] = await receiver.waitFor(2, WebhookReceiver.to("/hooks/rotation"));
    assert.deepEqual(afterGrace!.verifiedWith, [fresh], "the old secret no longer verifies");
  });

  it("redelivers a message with the same webhook-id, and logs every attempt", async () => {
    const { id, secret } = await createEndpoint(app.graphql, key, `${url}/redeliver`, ["IMPORT_COMPLETED"]);
    receiver.secrets.push(secret);
    const deliveryId = await sendTest(app.graphql, key, id);
    await receiver.waitFor(1, WebhookReceiver.to("/hooks/redeliver"));
    const redelivered = await app.graphql<{ redeliverWebhook: { id: string; status: string } }>(
      key,
      `mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { id status } }`,
      { d: deliveryId },
    );
    assert.equal(redelivered.body.errors, undefined, JSON.stringify(redelivered.body.errors));
    const [first, second] = await receiver.waitFor(2, WebhookReceiver.to("/hooks/redeliver"));
    assert.equal(second!.id, first!.id);
    assert.deepEqual(second!.verifiedWith, [secret]);
    await waitUntil(async () => {
      const [row] = await app.services.dataSource.query(
        "SELECT attempts, status FROM webhook_message WHERE id = $1",
        [deliveryId],
      );
      return row.attempts === 2 && row.status === "DELIVERED";
    });
  });

  it("does not follow a receiver's redirect, and records why", async () => {
    const redirecting = http.createServer((_request, response) => {
      response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    try {
      const port = (redirecting.address() as AddressInfo).port;
      const { id } = await createEndpoint(app.graphql, key, `http://127.0.0.1:${port}/hook`, ["ASSET_READY"]);
      const deliveryId = await sendTest(app.graphql, key, id);
      await waitUntil(async () => {
        const [row] = await app.services.dataSource.query(
          "SELECT attempts FROM webhook_message WHERE id = $1",
          [deliveryId],
        );
        return row.attempts >= 1;
      });
      const [row] = await app.services.dataSource.query(
        "SELECT status, last_status_code, last_error, next_attempt_at FROM webhook_message WHERE id = $1",
        [deliveryId],
      );
      assert.equal(row.status, "PENDING", "a redirect is a failed attempt, retried on schedule");
      assert.equal(row.last_status_code, 302);
      assert.match(row.last_error, /redirects are not followed/);
      assert.ok(row.next_attempt_at.getTime() - Date.now() <= 5_000);
      await app.graphql(key, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
    } finally {
      redirecting.closeAllConnections();
      redirecting.close();
    }
  });

  it("disables an endpoint that has failed for 5 days, with a reason the tenant can see", async () => {
    const { id } = await createEndpoint(app.graphql, key, `${url}/failing`, ["IMPORT_COMPLETED"]);
    receiver.answer = () => 503;
    await app.services.dataSource.query(
      "UPDATE webhook_endpoint SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1",
      [id],
    );
    await sendTest(app.graphql, key, id);
    await receiver.waitFor(1, WebhookReceiver.to("/hooks/failing"));
    let endpoint: { enabled: boolean; disabledReason: string | null } | undefined;
    await waitUntil(async () => {
      const read = await app.graphql<{
        webhookEndpoint: { enabled: boolean; disabledReason: string | null };
      }>(key, `query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason } }`, { id });
      endpoint = read.body.data!.webhookEndpoint;
      return !endpoint.enabled;
    });
    assert.match(endpoint!.disabledReason!, /failed for 5 days/);
    const [message] = await app.services.dataSource.query(
      "SELECT status FROM webhook_message WHERE endpoint_id = $1",
      [id],
    );
    assert.equal(message.status, "FAILED", "no more attempts to a disabled endpoint");
    const enabled = await app.graphql<{
      updateWebhookEndpoint: { enabled: boolean; disabledReason: string | null };
    }>(
      key,
      `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: true }) { enabled disabledReason } }`,
      { id },
    );
    assert.deepEqual(enabled.body.data!.updateWebhookEndpoint, { enabled: true, disabledReason: null });
    await app.graphql(key, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
  });

  it("writes nothing for a change that rolls back", async () => {
    const { id } = await createEndpoint(app.graphql, key, url, ["IMPORT_COMPLETED"]);
    const before = await countOutbox(app);
    await assert.rejects(
      app.services.dataSource.transaction(async (manager) => {
        await app.services.webhookOutbox.record(
          manager,
          { tenantId, name: "asset.ready", data: { id: "rolled-back" } },
          { endpointId: id },
        );
        throw new Error("the state change failed");
      }),
      /the state change failed/,
    );
    assert.deepEqual(await countOutbox(app), before, "no message and no delivery job");
    await app.graphql(key, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
  });

  it("keeps each tenant's endpoints and deliveries to itself (NOT_FOUND)", async () => {
    const { id } = await createEndpoint(app.graphql, key, url, ["IMPORT_COMPLETED"]);
    const deliveryId = await sendTest(app.graphql, key, id);
    const other = await app.newTenant("other partner");
    const attempts = [
      [`query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id }],
      [`query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { cursor } } }`, { id }],
      [`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id } }`, { id }],
      [`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id }],
      [`mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }`, { id }],
      [`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id }],
      [`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }`, { id: deliveryId }],
    ] as const;
    for (const [query, variables] of attempts) {
      const result = await app.graphql(other.key, query, variables);
      assert.equal(result.body.errors?.[0]?.extensions?.code, "NOT_FOUND", query);
    }
    const listed = await app.graphql<{ webhookEndpoints: unknown[] }>(
      other.key,
      "{ webhookEndpoints { id } }",
    );
    assert.deepEqual(listed.body.data!.webhookEndpoints, []);
  });
});

async function countOutbox(app: InProcessApp): Promise<{ messages: number; jobs: number }> {
  const [row] = await app.services.dataSource.query(
    `SELECT (SELECT count(*)::int FROM webhook_message) AS messages,
            (SELECT count(*)::int FROM pgboss.job WHERE name = 'webhook.deliver') AS jobs`,
  );
  return row;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
