import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { SceneType } from "../../src/domain/vocabulary.js";
import { probeMedia } from "../../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { ReplicateClient } from "../../src/providers/replicate/replicate-client.js";
import { ReplicateMusicProvider } from "../../src/providers/replicate/replicate-music.provider.js";
import type { MusicRequest } from "../../src/providers/types.js";
import { FAKE_REPLICATE_OUTPUTS, FakeReplicate } from "../helpers/fake-replicate.js";

const TOKEN = "test-replicate-token";
const PLAN: SceneType[] = ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"];

describe("Replicate MusicGen adapter", () => {
  const { ffmpeg, ffprobe } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
  let fake: FakeReplicate;
  let dir: string;
  before(async () => {
    fake = await new FakeReplicate({ token: TOKEN, ffmpeg }).start();
    dir = mkdtempSync(path.join(os.tmpdir(), "replicate-music-test-"));
  });
  after(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const music = () =>
    new ReplicateMusicProvider({
      client: new ReplicateClient({
        apiToken: TOKEN,
        baseUrl: fake.baseUrl,
        backoffMs: 10,
        outputs: FAKE_REPLICATE_OUTPUTS,
      }),
      ffmpeg,
      pollIntervalMs: 20,
    });
  const request = (secondsPerScene: number): MusicRequest => {
    const work = mkdtempSync(path.join(dir, "score-"));
    return {
      mood: "LUXURY",
      segments: PLAN.map((sceneType) => ({ sceneType, seconds: secondsPerScene })),
      sampleRate: 48_000,
      outFile: path.join(work, "score.wav"),
      workDir: work,
    };
  };

  async function assertScore(file: string, seconds: number) {
    const info = await probeMedia(ffprobe, file, { timeoutMs: 30_000 });
    const audio = info.streams.find((s) => s.type === "audio")!;
    assert.equal(audio.sampleRate, 48_000);
    assert.equal(audio.channels, 2);
    assert.ok(Math.abs((info.durationSeconds ?? 0) - seconds) < 0.001, `duration ${info.durationSeconds}`);
  }

  it("makes a 28 s score in one prediction (it fits MusicGen's 30 s)", async () => {
    const before = fake.creates.length;
    const result = await music().compose(request(4));
    await assertScore(result.outFile, 28);
    const created = fake.creates.slice(before);
    assert.equal(created.length, 1);
    assert.equal(
      created[0]!.body.version,
      "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb",
    );
    const input = created[0]!.body.input as Record<string, unknown>;
    assert.equal(input.continuation, undefined);
    assert.ok(Number(input.duration) <= 30);
    assert.ok((result.costUsd ?? 0) > 0);
  });

  it("continues a longer score from the previous segment's tail, joined to the exact length", async () => {
    const before = fake.creates.length;
    const result = await music().compose(request(8));
    await assertScore(result.outFile, 56);
    const created = fake.creates.slice(before);
    assert.equal(created.length, 3);
    for (const [k, create] of created.entries()) {
      const input = create.body.input as Record<string, unknown>;
      assert.ok(Number(input.duration) <= 30, `segment ${k} duration ${input.duration}`);
      if (k === 0) assert.equal(input.continuation, undefined);
      else {
        assert.equal(input.continuation, true);
        assert.match(String(input.input_audio), /^data:audio\/wav;base64,/);
      }
    }
    assert.match(String((created[2]!.body.input as { prompt: string }).prompt), /final cadence/);
  });
});
