import { readFile } from "node:fs/promises";
import path from "node:path";
import { AssetEntity, VideoJobEntity } from "../src/db/entities/index.js";
import { isTerminalJobStatus } from "../src/db/entities/video-job.entity.js";
import { estimateItems, inputHash, normaliseOptions } from "../src/services/video-pipeline.service.js";
import { SEVEN_SCENE_PHOTOS } from "../test/helpers/pipeline.js";
import { SAMPLE_AGENT, SAMPLE_LISTING_URL, SAMPLE_LOGO_SVG } from "../test/helpers/render-fixtures.js";
import { withBenchApp } from "./bench-app.js";
import type { Benchmark } from "./benchmarks.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/photos");

interface JobTimes {
  total: number;
  assembly: number;
  composing: number | null;
  seconds: number;
}

async function run(): Promise<string[]> {
  return await withBenchApp(
    "listing",
    {
      role: "all",
      env: { PATH: process.env.PATH ?? "" },
      poolSize: 10,
    },
    async (app) => {
      const { services } = app;
      const tenant = await services.tenants.ensure("bench");
      const campaign = await services.campaigns.create(tenant.id, { name: "bench house" });
      for (const name of SEVEN_SCENE_PHOTOS) {
        await services.ingest.ingestNew(
          tenant.id,
          campaign.id,
          name,
          await readFile(path.join(FIXTURES, name)),
        );
      }
      // the logo goes through the same ingest as an upload with purpose LOGO
      const assets = services.dataSource.getRepository(AssetEntity);
      const pending = await assets.save(
        assets.create({
          tenantId: tenant.id,
          campaignId: campaign.id,
          filename: "logo.svg",
          status: "PROCESSING",
          purpose: "LOGO",
          tags: [],
        }),
      );
      const logo = await services.ingest.ingestBrandImage(pending, Buffer.from(SAMPLE_LOGO_SVG));
      await services.campaigns.update(tenant.id, campaign.id, {
        address: "1847 Willow Creek Lane, Sonoma, CA 95476",
        price: 1_250_000,
        bedrooms: 4,
        bathrooms: 3,
        areaSqft: 2850,
        listingUrl: SAMPLE_LISTING_URL,
        timeZone: "America/Los_Angeles",
        agent: { ...SAMPLE_AGENT },
        brand: { primaryColor: "#0e3b43", secondaryColor: "#f2b705", logoAssetId: logo.id },
      });
      const fresh = await services.campaigns.require(tenant.id, campaign.id);

      const runJob = async (plain: boolean): Promise<JobTimes> => {
        const listing = normaliseOptions({ campaignId: campaign.id, sceneCount: 7 }, fresh);
        // the plain job: the options a job had before the on-screen layer (no overlays, one cut)
        const options = plain
          ? {
              ...listing,
              overlays: undefined,
              template: undefined,
              captions: undefined,
              openHouse: undefined,
              previousPrice: undefined,
            }
          : listing;
        const job = await services.jobStates.create(
          {
            tenantId: tenant.id,
            campaignId: campaign.id,
            options,
            inputHash: inputHash(campaign.id, options),
            estimatedCost: estimateItems(options, services.providers),
          },
          null,
        );
        let row: VideoJobEntity;
        for (;;) {
          row = await services.dataSource.getRepository(VideoJobEntity).findOneByOrFail({ id: job.id });
          if (isTerminalJobStatus(row.status)) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (row.status !== "SUCCEEDED") throw new Error(`job ended ${row.status}: ${row.error}`);
        const events: { type: string; payload: Record<string, unknown>; created_at: Date }[] =
          await services.dataSource.query(
            "SELECT type, payload, created_at FROM job_event WHERE job_id = $1 ORDER BY sequence",
            [job.id],
          );
        // The renditions (480p/720p, niced) follow SUCCEEDED: wait for them, so the next job
        // starts on a machine as quiet as this one did.
        for (let waited = 0; ; waited += 100) {
          const [ready] = await services.dataSource.query(
            "SELECT 1 FROM job_event WHERE job_id = $1 AND type = 'RENDITIONS_READY'",
            [job.id],
          );
          if (ready || waited > 180_000) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const at = (predicate: (event: (typeof events)[number]) => boolean) =>
          events.find(predicate)?.created_at.getTime() ?? Number.NaN;
        // each event's payload carries the job's state as of that event
        const state = (event: (typeof events)[number]) =>
          (event.payload["job"] ?? event.payload) as { status?: string; stage?: string };
        const created = at((event) => event.type === "CREATED");
        const assembling = at((event) => state(event).status === "ASSEMBLING");
        const composing = at((event) => state(event).stage === "composing");
        const completed = at((event) => event.type === "COMPLETED");
        return {
          total: (completed - created) / 1000,
          assembly: (completed - assembling) / 1000,
          composing: Number.isNaN(composing) ? null : (completed - composing) / 1000,
          seconds: row.durationSeconds ?? 0,
        };
      };

      const plain = await runJob(true);
      const listing = await runJob(false);
      const ratio = listing.total / plain.total;
      const composing = listing.composing ?? Number.NaN;
      return [
        `plain 7-scene job (one ${plain.seconds.toFixed(0)} s cut): ${plain.total.toFixed(1)} s (assembly ${plain.assembly.toFixed(1)} s)`,
        `listing 7-scene job (branded + unbranded ${listing.seconds.toFixed(0)} s cuts, captions): ${listing.total.toFixed(1)} s (assembly ${listing.assembly.toFixed(1)} s)`,
        `listing / plain: ${ratio.toFixed(2)}× (goal ≤ 1.25×) ${ratio <= 1.25 ? "OK" : "NOT MET"}`,
        `overlay composition at assembly: ${composing.toFixed(1)} s for both cuts, ${(composing / 2).toFixed(1)} s per cut, ` +
          `${((composing / listing.total) * 100).toFixed(1)} % of the job`,
      ];
    },
  );
}

export const listingVideoBenchmark: Benchmark = {
  name: "listing-video",
  description: "a 7-scene listing job (two cuts, overlays) vs the same job plain, through the real pipeline",
  run,
};
