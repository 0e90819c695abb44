/**
 * A listing campaign with every field set (agent, logo, agent photo, listing URL, brand
 * colours), its video jobs through the API, and the quality bar every cut must meet.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { probeMedia } from "../../src/media/ffmpeg.runner.js";
import type { InProcessApp } from "./app.js";
import { fixturePhoto } from "./fixtures.js";
import { campaignWithPhotos, waitForJob } from "./pipeline.js";
import { SAMPLE_AGENT, SAMPLE_LISTING_URL, SAMPLE_LOGO_SVG } from "./render-fixtures.js";
import { blackAndFrozen, measureLoudness, topLevelBoxes } from "./video-checks.js";

export const LISTING = Object.freeze({
  address: "1847 Willow Creek Lane, Sonoma, CA 95476",
  price: 1_250_000,
  formattedPrice: "$1,250,000",
  currency: "USD",
  bedrooms: 4,
  bathrooms: 3,
  areaSqft: 2850,
  listingUrl: SAMPLE_LISTING_URL,
});

export { SAMPLE_AGENT };

/** Uploads an image through createAssetUpload + PUT with the given purpose; returns its READY id. */
export async function uploadBrandAsset(
  app: InProcessApp,
  key: string,
  campaignId: string,
  purpose: "LOGO" | "AGENT_PHOTO",
  filename: string,
  bytes: Buffer,
  contentType: string,
): Promise<string> {
  const created = await app.graphql<{ createAssetUpload: { uploadUrl: string; asset: { id: string } } }>(
    key,
    `mutation($input: CreateAssetUploadInput!) { createAssetUpload(input: $input) { uploadUrl asset { id } } }`,
    { input: { campaignId, filename, contentType, byteSize: bytes.length, purpose } },
  );
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const upload = created.body.data!.createAssetUpload;
  const response = await app.app.inject({
    method: "PUT",
    url: upload.uploadUrl.replace(/^https?:\/\/[^/]+/, ""),
    payload: bytes,
  });
  assert.equal((response.json() as { asset: { status: string } }).asset.status, "READY", response.body);
  return upload.asset.id;
}

/** A campaign with the photos, and every listing field, the agent, logo and brand colours set. */
export async function listingCampaign(
  app: InProcessApp,
  key: string,
  tenantId: string,
  photos: string[],
): Promise<{ campaignId: string; assetIds: string[] }> {
  const { campaignId, assetIds } = await campaignWithPhotos(app.services, tenantId, photos);
  const logo = await uploadBrandAsset(
    app,
    key,
    campaignId,
    "LOGO",
    "logo.svg",
    Buffer.from(SAMPLE_LOGO_SVG),
    "image/svg+xml",
  );
  const face = await sharp(fixturePhoto("living-01.jpg")).resize(320, 320).jpeg().toBuffer();
  const agentPhoto = await uploadBrandAsset(
    app,
    key,
    campaignId,
    "AGENT_PHOTO",
    "agent.jpg",
    face,
    "image/jpeg",
  );
  const { formattedPrice: _formatted, ...facts } = LISTING;
  const updated = await app.graphql(
    key,
    `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { id } }`,
    {
      id: campaignId,
      input: {
        ...facts,
        locale: "en-US",
        timeZone: "America/Los_Angeles",
        brand: { primaryColor: "#0e3b43", secondaryColor: "#f2b705", logoAssetId: logo },
        agent: { ...SAMPLE_AGENT, phone: "+1 707-555-0142", photoAssetId: agentPhoto },
      },
    },
  );
  assert.equal(updated.body.errors, undefined, JSON.stringify(updated.body.errors));
  return { campaignId, assetIds };
}

export interface CutView {
  url: string;
  posterUrl: string;
  captionsUrl: string;
  aiDisclosure: string | null;
  durationSeconds: number;
  width: number;
  height: number;
}

export interface ListingJobView {
  id: string;
  status: string;
  stage: string;
  template: string;
  video: CutView;
  unbrandedVideo: CutView;
}

const CUT_FIELDS = "url posterUrl captionsUrl aiDisclosure durationSeconds width height";

/** Creates a job through the API, waits for it and returns both cuts. */
export async function runListingJob(
  app: InProcessApp,
  key: string,
  input: Record<string, unknown>,
  timeoutMs = 300_000,
): Promise<ListingJobView> {
  const created = await app.graphql<{ createVideoJob: { id: string } }>(
    key,
    `mutation($input: CreateVideoJobInput!) { createVideoJob(input: $input) { id } }`,
    { input },
  );
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const jobId = created.body.data!.createVideoJob.id;
  const job = await waitForJob(app.services, jobId, timeoutMs);
  assert.equal(job.status, "SUCCEEDED", job.error ?? "");
  const view = await app.graphql<{ videoJob: ListingJobView }>(
    key,
    `query($id: ID!) { videoJob(id: $id) { id status stage template
        video { ${CUT_FIELDS} } unbrandedVideo { ${CUT_FIELDS} } } }`,
    { id: jobId },
  );
  assert.equal(view.body.errors, undefined, JSON.stringify(view.body.errors));
  return view.body.data!.videoJob;
}

/** Downloads a signed media URL to `file`; returns the response's content type. */
export async function download(app: InProcessApp, url: string, file: string): Promise<string> {
  const response = await app.app.inject({ method: "GET", url: url.replace(/^https?:\/\/[^/]+/, "") });
  assert.equal(response.statusCode, 200, url);
  await writeFile(file, response.rawPayload);
  return String(response.headers["content-type"]);
}

/** The pipeline's quality bar: size, frames, −16 LUFS, faststart, no black or frozen stretch. */
export async function assertQualityBar(
  app: InProcessApp,
  file: string,
  expected: { seconds: number; width: number; height: number },
): Promise<void> {
  const { ffmpeg, ffprobe } = app.services.ffmpeg;
  const name = path.basename(file);
  const info = await probeMedia(ffprobe, file, { timeoutMs: 30_000 });
  const video = info.streams.find((stream) => stream.type === "video")!;
  const audio = info.streams.find((stream) => stream.type === "audio")!;
  assert.deepEqual(
    [video.codec, video.pixFmt, video.width, video.height],
    ["h264", "yuv420p", expected.width, expected.height],
    name,
  );
  assert.ok(Math.abs((video.frames ?? 0) - expected.seconds * 30) <= 1, `${name}: frames ${video.frames}`);
  assert.deepEqual([audio.codec, audio.sampleRate, audio.channels], ["aac", 48_000, 2], name);
  assert.ok(
    Math.abs((info.durationSeconds ?? 0) - expected.seconds) <= 0.1,
    `${name}: ${info.durationSeconds} s`,
  );
  const boxes = await topLevelBoxes(file);
  assert.ok(boxes.indexOf("moov") < boxes.indexOf("mdat"), `${name} faststart: ${boxes.join(",")}`);
  const loudness = await measureLoudness(ffmpeg, file);
  assert.ok(Math.abs(loudness.integratedLufs + 16) <= 1, `${name}: ${loudness.integratedLufs} LUFS`);
  const { black, frozen } = await blackAndFrozen(ffmpeg, file);
  assert.deepEqual(
    black.filter((stretch) => stretch.start > 0.6 && stretch.end < expected.seconds - 1.5),
    [],
    `${name}: black frames outside the fades`,
  );
  assert.deepEqual(frozen, [], `${name}: a frozen stretch over 1 s`);
}
