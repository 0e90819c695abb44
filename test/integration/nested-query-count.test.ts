/**
 * Nested GraphQL fields fetch through per-request DataLoaders: the number of SQL statements of a
 * query over campaigns → jobs → scenes/video must not grow with the number of rows (no N+1).
 * Statements are counted on the app's own pg pool (TypeORM and the media store both use it).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import { poolOf } from "../../src/media/media.store.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { embeddedJobOptions } from "../helpers/pipeline.js";

/** The query of issue 9, in the schema's terms. */
const CAMPAIGN_JOBS_QUERY = `{ campaigns(first: 50) { edges { node { id videoJobs { edges { node {
  id scenes { clipUrl } video { byteSize } } } } } } } }`;

/** Every other nested field that reads rows, on the same data. */
const WIDE_QUERY = `{ viewer { tenant { name } } campaigns(first: 50) { edges { node { id
  assets(first: 10) { edges { node { id url thumbnailUrl } } }
  videoJobs(first: 10) { edges { node { id status campaign { id }
    scenes { index clipUrl firstAsset { id url } lastAsset { id } }
    video { url posterUrl byteSize contentType durationSeconds } cost { totalUsd } estimatedCost { totalUsd } } } } } } } }`;

interface Seeded {
  key: string;
  tenantId: string;
  /** Video byte size by job id, as stored. */
  sizes: Map<string, number>;
}

interface Shape {
  campaigns: number;
  jobsPerCampaign: number;
  scenesPerJob: number;
}

/** Counts the statements sent through the pool's clients while `during` runs. */
function statementCounter(pool: pg.Pool) {
  const seen: string[] = [];
  let counting = false;
  const wrapped = new WeakSet<pg.PoolClient>();
  pool.on("acquire", (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      if (counting) {
        const first = args[0] as string | { text?: string };
        seen.push(typeof first === "string" ? first : (first.text ?? "?"));
      }
      return query(...args);
    }) as typeof client.query;
  });
  return {
    async during(run: () => Promise<void>): Promise<string[]> {
      seen.length = 0;
      counting = true;
      try {
        await run();
      } finally {
        counting = false;
      }
      return [...seen];
    },
  };
}

describe("nested fields are batched: SQL statements do not grow with rows", () => {
  let app: InProcessApp;
  let counter: ReturnType<typeof statementCounter>;

  before(async () => {
    // The large shape's queries cost more than the default budget allows: this test counts SQL
    // statements, not query cost (test/integration/request-guard.test.ts covers the limit).
    app = await startInProcessApp(
      { RATE_LIMIT_PER_MINUTE: "10000", GRAPHQL_MAX_COST: "1000000", GRAPHQL_COST_PER_MINUTE: "0" },
      { workers: false },
    );
    counter = statementCounter(poolOf(app.services.dataSource));
  });
  after(async () => {
    await app?.close();
  });

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await app.services.dataSource.query(text, params)) as T[];

  /**
   * A tenant with campaigns, each with two photos and finished jobs whose scenes have clips.
   * Every media row gets its own size, so a loader that mixed rows up would be caught.
   */
  async function seedTenant(name: string, shape: Shape): Promise<Seeded> {
    const { key, tenantId } = await app.newTenant(name);
    const media = async (tags: string[], contentType: string) =>
      await sql<{ id: string; sha256: string }>(
        `INSERT INTO media (tenant_id, lo_oid, byte_size, sha256, content_type)
         SELECT $1, lo_from_bytea(0, convert_to(tag, 'UTF8')), 1000 + ordinality, tag, $3
           FROM unnest($2::text[]) WITH ORDINALITY AS t(tag, ordinality)
         RETURNING id, sha256`,
        [tenantId, tags, contentType],
      );
    const campaigns = await sql<{ id: string }>(
      `INSERT INTO campaign (tenant_id, name) SELECT $1, 'house ' || g FROM generate_series(1, $2) g RETURNING id`,
      [tenantId, shape.campaigns],
    );
    await media(
      campaigns.flatMap((campaign) => [`photo-a-${campaign.id}`, `photo-b-${campaign.id}`]),
      "image/jpeg",
    );
    await sql(
      `INSERT INTO asset (tenant_id, campaign_id, media_id, thumbnail_media_id, filename, status)
       SELECT $1, c.id, m.id, m.id, side || '.jpg', 'READY'
         FROM unnest($2::uuid[]) AS c(id) CROSS JOIN unnest(ARRAY['a', 'b']) AS side
         JOIN media m ON m.tenant_id = $1 AND m.sha256 = 'photo-' || side || '-' || c.id`,
      [tenantId, campaigns.map((campaign) => campaign.id)],
    );

    const jobs = await sql<{ id: string; campaign_id: string }>(
      `INSERT INTO video_job (tenant_id, campaign_id, status, options, input_hash, duration_seconds, width, height,
                              cost, estimated_cost)
       SELECT $1, c.id, 'SUCCEEDED', $3, 'seed', 12, 1920, 1080, $4, $4
         FROM unnest($2::uuid[]) AS c(id), generate_series(1, $5)
       RETURNING id, campaign_id`,
      [
        tenantId,
        campaigns.map((campaign) => campaign.id),
        JSON.stringify(embeddedJobOptions(shape.scenesPerJob)),
        JSON.stringify([
          {
            kind: "VIDEO",
            sceneIndex: 0,
            provider: "local",
            units: 4,
            unit: "second",
            unitPriceUsd: 0,
            usd: 0,
          },
        ]),
        shape.jobsPerCampaign,
      ],
    );
    const videos = await media(
      jobs.map((job) => `video-${job.id}`),
      "video/mp4",
    );
    await media(
      jobs.map((job) => `poster-${job.id}`),
      "image/jpeg",
    );
    await sql(
      `UPDATE video_job j SET video_media_id = v.id, poster_media_id = p.id
         FROM media v, media p
        WHERE v.tenant_id = $1 AND v.sha256 = 'video-' || j.id AND p.tenant_id = $1 AND p.sha256 = 'poster-' || j.id`,
      [tenantId],
    );
    const clipTags = jobs.flatMap((job) =>
      Array.from({ length: shape.scenesPerJob }, (_, index) => `clip-${job.id}-${index}`),
    );
    await media(clipTags, "video/mp4");
    await sql(
      `INSERT INTO scene (job_id, tenant_id, index, scene_type, status, progress, clip_media_id, first_asset_id, last_asset_id)
       SELECT j.id, $1, i, 'LIVING', 'SUCCEEDED', 1, m.id,
              (SELECT id FROM asset WHERE campaign_id = j.campaign_id AND filename = 'a.jpg'),
              (SELECT id FROM asset WHERE campaign_id = j.campaign_id AND filename = 'b.jpg')
         FROM video_job j CROSS JOIN generate_series(0, $2 - 1) AS i
         JOIN media m ON m.tenant_id = $1 AND m.sha256 = 'clip-' || j.id || '-' || i
        WHERE j.tenant_id = $1`,
      [tenantId, shape.scenesPerJob],
    );
    const sizes = new Map(
      (
        await sql<{ id: string; byte_size: string }>(
          "SELECT j.id, m.byte_size FROM video_job j JOIN media m ON m.id = j.video_media_id WHERE j.tenant_id = $1",
          [tenantId],
        )
      ).map((row) => [row.id, Number(row.byte_size)]),
    );
    assert.equal(videos.length, jobs.length);
    assert.equal(sizes.size, shape.campaigns * shape.jobsPerCampaign);
    return { key, tenantId, sizes };
  }

  type CampaignJobs = {
    campaigns: {
      edges: {
        node: {
          id: string;
          videoJobs: {
            edges: {
              node: { id: string; scenes: { clipUrl: string | null }[]; video: { byteSize: number } | null };
            }[];
          };
        };
      }[];
    };
  };

  /** Runs the query once to settle per-key bookkeeping, then counts the statements of a second run. */
  async function statementsOf(
    { key, tenantId }: Seeded,
    query: string,
  ): Promise<{ statements: string[]; data: unknown }> {
    const warmUp = await app.graphql(key, query);
    assert.equal(warmUp.body.errors, undefined, JSON.stringify(warmUp.body.errors));
    // The key's first use records last_used_at in the background; let that land outside the count.
    for (let i = 0; i < 100; i++) {
      const [row] = await sql<{ used: boolean }>(
        "SELECT bool_and(last_used_at IS NOT NULL) AS used FROM api_key WHERE tenant_id = $1",
        [tenantId],
      );
      if (row?.used) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    let data: unknown;
    const statements = await counter.during(async () => {
      const result = await app.graphql(key, query);
      assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors));
      data = result.body.data;
    });
    return { statements, data };
  }

  it("campaigns → videoJobs → scenes { clipUrl } video { byteSize }: the same statements for 2 and 40 campaigns", async (t) => {
    const small = await seedTenant("small", { campaigns: 2, jobsPerCampaign: 2, scenesPerJob: 3 });
    const large = await seedTenant("large", { campaigns: 40, jobsPerCampaign: 3, scenesPerJob: 7 });
    const counted = {
      small: await statementsOf(small, CAMPAIGN_JOBS_QUERY),
      large: await statementsOf(large, CAMPAIGN_JOBS_QUERY),
    };
    t.diagnostic(
      `statements: ${counted.small.statements.length} for 2 campaigns × 2 jobs × 3 scenes, ` +
        `${counted.large.statements.length} for 40 campaigns × 3 jobs × 7 scenes`,
    );
    assert.equal(
      counted.large.statements.length,
      counted.small.statements.length,
      `grew with the rows:\n${counted.large.statements.join("\n")}`,
    );
    assert.ok(counted.small.statements.length <= 8, counted.small.statements.join("\n"));

    // The batched answers are the right rows: every job's own video size, every scene's clip.
    for (const [seeded, { data }] of [
      [small, counted.small],
      [large, counted.large],
    ] as const) {
      const jobs = (data as CampaignJobs).campaigns.edges.flatMap((edge) => edge.node.videoJobs.edges);
      assert.equal(jobs.length, seeded.sizes.size);
      for (const { node } of jobs) {
        assert.equal(node.video?.byteSize, seeded.sizes.get(node.id), node.id);
        assert.ok(
          node.scenes.length > 0 && node.scenes.every((scene) => scene.clipUrl?.includes("/v1/media/")),
        );
      }
    }
  });

  it("every other row-reading nested field (assets, scene assets, poster, cost, campaign) is batched too", async (t) => {
    const small = await seedTenant("wide-small", { campaigns: 1, jobsPerCampaign: 1, scenesPerJob: 2 });
    const large = await seedTenant("wide-large", { campaigns: 30, jobsPerCampaign: 4, scenesPerJob: 5 });
    const counts = {
      small: (await statementsOf(small, WIDE_QUERY)).statements,
      large: (await statementsOf(large, WIDE_QUERY)).statements,
    };
    t.diagnostic(`statements: ${counts.small.length} (1 campaign) vs ${counts.large.length} (30 campaigns)`);
    assert.equal(counts.large.length, counts.small.length, `grew with the rows:\n${counts.large.join("\n")}`);
  });
});
