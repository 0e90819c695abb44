import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { assertSafeArgv } from "../../src/media/ffmpeg.runner.js";
import {
  audioFinishArgs,
  audioJoinArgs,
  audioTailArgs,
} from "../../src/providers/replicate/music-audio-commands.js";
import { redact, toProviderError } from "../../src/providers/replicate/replicate-client.js";
import {
  billedDuration,
  estimateUsd,
  REPLICATE_VIDEO_MODELS,
  supportsSeconds,
  videoModel,
} from "../../src/providers/replicate/replicate-models.js";
import { planChunks } from "../../src/providers/replicate/replicate-music.provider.js";
import { parseDuration, promptFor } from "../../src/providers/replicate/replicate-video.provider.js";
import { signWebhook, verifyWebhook } from "../../src/providers/replicate/webhook-signature.js";
import type { AssetFacts, SelectorInput } from "../../src/providers/types.js";
import { validateAnswer } from "../../src/providers/xai/grok-selector.js";

const SECRET = `whsec_${Buffer.from("test-webhook-secret-not-real").toString("base64")}`;

describe("Replicate model table", () => {
  it("rounds a scene up to a duration each model renders, and bills that", () => {
    const veo = videoModel("google/veo-3.1-fast")!;
    const hailuo = videoModel("minimax/hailuo-02")!;
    const kling = videoModel("kwaivgi/kling-v2.1")!;
    assert.equal(billedDuration(veo, 4), 4);
    assert.equal(billedDuration(veo, 5), 6);
    assert.equal(billedDuration(hailuo, 4), 6, "Hailuo has no 4 s: render 6 and trim");
    assert.equal(billedDuration(kling, 4), 5);
    assert.equal(billedDuration(kling, 7), 10);
    assert.equal(estimateUsd(hailuo, 4), 0.27);
    assert.equal(estimateUsd(veo, 4), 0.4);
    assert.equal(supportsSeconds(veo, 9), false);
    assert.equal(supportsSeconds(hailuo, 10), true);
  });

  it("is data: every model has inputs, durations, resolutions and a price", () => {
    for (const model of REPLICATE_VIDEO_MODELS) {
      assert.ok(model.inputs.firstFrame && model.inputs.prompt && model.inputs.duration, model.id);
      assert.ok(model.durations.length > 0 && model.resolutions.length > 0, model.id);
      assert.ok(model.usdPerSecond > 0 && model.usdPerSecond < 1, model.id);
    }
    assert.equal(videoModel("google/veo-3.1")!.fixedInputs.generate_audio, false);
  });

  it("builds a prompt with the camera move and parses deadlines", () => {
    assert.match(
      promptFor({ prompt: "A sunny kitchen", cameraMove: "TRUCK_LEFT" }),
      /sunny kitchen.*truck to the left/,
    );
    assert.equal(parseDuration("10m"), 600_000);
    assert.equal(parseDuration("90s"), 90_000);
  });
});

describe("MusicGen joining argv", () => {
  it("only ever reads local files", () => {
    for (const argv of [
      audioTailArgs("/tmp/a.wav", "/tmp/t.wav", 5),
      audioJoinArgs({
        previous: "/tmp/a.wav",
        next: "/tmp/b.wav",
        skipSeconds: 5,
        crossfadeSeconds: 0.5,
        outFile: "/tmp/c.wav",
      }),
      audioFinishArgs({ inFile: "/tmp/c.wav", outFile: "/tmp/d.wav", seconds: 28, sampleRate: 48_000 }),
    ]) {
      assert.doesNotThrow(() => assertSafeArgv(argv));
      assert.ok(argv.includes("-protocol_whitelist"));
    }
  });

  it("cuts the delivered score to the exact sample and fades the end", () => {
    const argv = audioFinishArgs({
      inFile: "/tmp/c.wav",
      outFile: "/tmp/d.wav",
      seconds: 28,
      sampleRate: 48_000,
    });
    const filter = argv[argv.indexOf("-af") + 1]!;
    assert.match(filter, /apad=whole_len=1344000/);
    assert.match(filter, /atrim=end_sample=1344000/);
    assert.match(filter, /afade=t=out:st=25:d=3/);
  });

  it("groups scenes into chunks no longer than the model's maximum", () => {
    const segments = Array.from({ length: 7 }, () => ({ sceneType: "LIVING" as const, seconds: 8 }));
    const chunks = planChunks(segments, 23.5);
    assert.deepEqual(
      chunks.map((c) => c.seconds),
      [23.5, 23.5, 9],
    );
    assert.equal(planChunks(segments.slice(0, 3), 30).length, 1);
  });
});

describe("Standard Webhooks signatures", () => {
  const now = 1_760_000_000;
  const body = JSON.stringify({ id: "p1", status: "succeeded" });
  it("accepts a valid signature, also among several", () => {
    const signature = signWebhook(SECRET, "msg_1", now, body);
    assert.deepEqual(verifyWebhook(SECRET, { id: "msg_1", timestamp: String(now), signature }, body, now), {
      ok: true,
    });
    assert.deepEqual(
      verifyWebhook(
        SECRET,
        { id: "msg_1", timestamp: String(now), signature: `v1,AAAA ${signature}` },
        body,
        now,
      ),
      { ok: true },
    );
  });
  it("refuses a stale or future timestamp, a changed body, a wrong secret", () => {
    const signature = signWebhook(SECRET, "msg_1", now - 301, body);
    assert.deepEqual(
      verifyWebhook(SECRET, { id: "msg_1", timestamp: String(now - 301), signature }, body, now),
      { ok: false, reason: "stale" },
    );
    const good = signWebhook(SECRET, "msg_1", now, body);
    assert.equal(
      verifyWebhook(SECRET, { id: "msg_1", timestamp: String(now), signature: good }, `${body} `, now).ok,
      false,
    );
    assert.equal(
      verifyWebhook(SECRET, { id: "msg_2", timestamp: String(now), signature: good }, body, now).ok,
      false,
    );
    const other = `whsec_${Buffer.from("another-test-secret").toString("base64")}`;
    assert.equal(
      verifyWebhook(other, { id: "msg_1", timestamp: String(now), signature: good }, body, now).ok,
      false,
    );
    assert.deepEqual(
      verifyWebhook(undefined, { id: "msg_1", timestamp: String(now), signature: good }, body, now),
      { ok: false, reason: "no-secret" },
    );
    assert.deepEqual(verifyWebhook(SECRET, { id: "msg_1", timestamp: String(now) }, body, now), {
      ok: false,
      reason: "missing-headers",
    });
  });
});

describe("Standard Webhooks signatures against the standard itself", () => {
  // The test vector the Standard Webhooks reference libraries publish (a test key, not a secret).
  const vector = {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };

  it("signs the published test vector to the published signature, and verifies it", () => {
    assert.equal(signWebhook(vector.secret, vector.id, vector.timestamp, vector.body), vector.signature);
    const headers = { id: vector.id, timestamp: String(vector.timestamp), signature: vector.signature };
    assert.deepEqual(verifyWebhook(vector.secret, headers, vector.body, vector.timestamp), { ok: true });
    assert.deepEqual(verifyWebhook(vector.secret, headers, `${vector.body} `, vector.timestamp), {
      ok: false,
      reason: "bad-signature",
    });
  });

  it("agrees with the reference implementation (standardwebhooks) both ways", () => {
    const reference = new Webhook(SECRET);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ id: "p1", status: "succeeded", output: ["https://x.test/o.mp4"] });

    // Ours signs, the reference verifies.
    const ours = signWebhook(SECRET, "msg_ours", nowSeconds, body);
    const delivery = {
      "webhook-id": "msg_ours",
      "webhook-timestamp": String(nowSeconds),
      "webhook-signature": ours,
    };
    assert.doesNotThrow(() => reference.verify(body, delivery));
    assert.throws(() => reference.verify(`${body} `, delivery), WebhookVerificationError);

    // The reference signs, ours verifies.
    const theirs = reference.sign("msg_theirs", new Date(nowSeconds * 1000), body);
    const headers = { id: "msg_theirs", timestamp: String(nowSeconds), signature: theirs };
    assert.deepEqual(verifyWebhook(SECRET, headers, body, nowSeconds), { ok: true });
    assert.equal(verifyWebhook(SECRET, { ...headers, id: "msg_other" }, body, nowSeconds).ok, false);
  });
});

describe("provider errors", () => {
  it("keeps the provider's message, classifies 4xx as final and 5xx as transient, hides secrets", () => {
    const answer = (status: number, body: string) => Object.assign(new Error("answered"), { status, body });
    const e422 = toProviderError(
      "create prediction",
      answer(422, '{"title":"Input validation failed","detail":"duration: must be one of 4, 6, 8"}'),
    );
    assert.equal(e422.code, "PROVIDER_FAILED");
    assert.equal(e422.transient, false);
    assert.match(e422.message, /duration: must be one of 4, 6, 8/);
    assert.equal(toProviderError("get", answer(503, "<html>bad gateway</html>")).transient, true);
    assert.equal(toProviderError("get", answer(429, "")).transient, true);
    assert.equal(
      toProviderError("get", answer(404, '{"title":"Not found"}')).message,
      "Replicate: get failed (404): Not found",
    );
    assert.equal(toProviderError("get", new TypeError("fetch failed")).transient, true);
    assert.equal(
      redact("Bearer test-replicate-token and ?token=abc.def&x=1", "test-replicate-token"),
      "Bearer [redacted] and ?token=[redacted]&x=1",
    );
  });
});

describe("Grok answer validation", () => {
  const asset = (
    id: string,
    room: AssetFacts["roomTypeGuess"],
    flags: AssetFacts["flags"] = [],
  ): AssetFacts => ({
    id,
    filename: `${id}.jpg`,
    width: 2000,
    height: 1333,
    userRoomType: null,
    roomTypeGuess: room,
    tags: [],
    sharpness: 0.8,
    exposure: 0.5,
    colourfulness: 0.5,
    dhash: "0".repeat(16),
    flags,
  });
  const input: SelectorInput = {
    assets: [
      asset("a", "EXTERIOR"),
      asset("b", "EXTERIOR"),
      asset("c", "LIVING"),
      asset("d", "LIVING"),
      asset("doc", "OTHER", ["DOCUMENT"]),
    ],
    plan: ["EXTERIOR", "LIVING"],
    aspectRatio: "LANDSCAPE_16_9",
    mood: "CALM",
  };
  const scene = (index: number, first: string, last: string) => ({
    index,
    firstAssetId: first,
    lastAssetId: last,
    cameraMove: "PUSH_IN",
    prompt: "p",
    confidence: 0.9,
    reasoning: "r",
  });
  it("accepts a good answer", () => {
    const picks = validateAnswer({ scenes: [scene(0, "a", "b"), scene(1, "c", "d")] }, input);
    assert.deepEqual(
      picks.map((p) => [p.sceneType, p.firstAssetId, p.lastAssetId]),
      [
        ["EXTERIOR", "a", "b"],
        ["LIVING", "c", "d"],
      ],
    );
  });
  it("refuses foreign ids, documents, reuse and missing scenes", () => {
    assert.throws(
      () => validateAnswer({ scenes: [scene(0, "zzz", "b"), scene(1, "c", "d")] }, input),
      /not one of the campaign/,
    );
    assert.throws(
      () => validateAnswer({ scenes: [scene(0, "a", "doc"), scene(1, "c", "d")] }, input),
      /document/,
    );
    assert.throws(
      () =>
        validateAnswer(
          { scenes: [scene(0, "a", "b"), scene(1, "a", "d")] },
          { ...input, assets: [...input.assets, asset("e", "BATH"), asset("f", "BATH")] },
        ),
      /used twice/,
    );
    assert.throws(() => validateAnswer({ scenes: [scene(0, "a", "b")] }, input), /scene 1 answered 0 times/);
  });
});
