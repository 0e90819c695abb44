import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { AssetFacts, SelectorInput } from "../../src/providers/types.js";
import { GrokSelector } from "../../src/providers/xai/grok-selector.js";
import { FakeXai } from "../helpers/fake-xai.js";

const KEY = "test-xai-key";

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
  dhash: `${id.padEnd(16, "0")}`.slice(0, 16).replace(/[^0-9a-f]/g, "1"),
  flags,
});

describe("Grok pair selector", () => {
  let fake: FakeXai;
  let logs: string[];
  before(async () => {
    fake = await new FakeXai(KEY).start();
    logs = [];
  });
  after(async () => fake?.close());

  const logger = () =>
    pino(
      { level: "debug" },
      new Writable({
        write(chunk, _e, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
  const input = (): SelectorInput => ({
    assets: [
      asset("a1", "EXTERIOR"),
      asset("a2", "EXTERIOR"),
      asset("b1", "LIVING"),
      asset("b2", "LIVING"),
      asset("c1", "KITCHEN"),
      asset("c2", "KITCHEN"),
      asset("d1", "OTHER", ["DOCUMENT"]),
    ],
    plan: ["EXTERIOR", "LIVING", "KITCHEN"],
    aspectRatio: "LANDSCAPE_16_9",
    mood: "MODERN",
    imageUrl: async () => "data:image/jpeg;base64,/9j/AAAA",
  });
  const selector = (key = KEY) =>
    new GrokSelector({
      apiKey: key,
      baseUrl: fake.baseUrl,
      model: "grok-4",
      logger: logger(),
      maxRetries: 0,
    });

  it("asks with photos and a JSON schema, and uses a valid answer", async () => {
    fake.mode = "good";
    const result = await selector().select(input());
    assert.equal(result.note, undefined);
    assert.deepEqual(
      result.picks.map((p) => [p.sceneType, p.firstAssetId, p.lastAssetId]),
      [
        ["EXTERIOR", "a1", "a2"],
        ["LIVING", "b1", "b2"],
        ["KITCHEN", "c1", "c2"],
      ],
    );
    assert.ok((result.costUsd ?? 0) > 0);
    const last = fake.requests[fake.requests.length - 1]!;
    assert.equal(last.imageCount, 7);
    assert.equal((last.body.response_format as { type: string }).type, "json_schema");
  });

  for (const mode of ["foreign-id", "server-error", "not-json"] as const) {
    it(`falls back to the heuristic and says why (${mode})`, async () => {
      fake.mode = mode;
      const result = await selector().select(input());
      assert.match(result.note ?? "", /fell back to the heuristic/);
      assert.equal(result.picks.length, 3);
      const ids = new Set(input().assets.map((a) => a.id));
      for (const pick of result.picks) assert.ok(ids.has(pick.firstAssetId) && pick.firstAssetId !== "d1");
    });
  }

  it("never puts the key in notes or logs", async () => {
    fake.mode = "good";
    const result = await selector("test-wrong-xai-key").select(input());
    assert.match(result.note ?? "", /fell back/);
    assert.doesNotMatch(`${result.note} ${logs.join("")}`, /test-wrong-xai-key|test-xai-key/);
  });
});
