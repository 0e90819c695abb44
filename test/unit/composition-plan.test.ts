import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SceneType } from "../../src/domain/vocabulary.js";
import { overlayKey, planComposition, type SceneClip } from "../../src/render/composition-plan.js";
import { buildWebVtt, escapeCueText, vttTimestamp } from "../../src/render/webvtt.js";

const TYPES: SceneType[] = ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"];
const scenes = (ai: (index: number) => boolean = () => false): SceneClip[] =>
  TYPES.map((sceneType, index) => ({
    index,
    clipFile: `/w/scene-${index}.mp4`,
    seconds: 4,
    sceneType,
    aiGenerated: ai(index),
  }));

describe("composition plan", () => {
  it("7 × 4 s + a 3 s outro: 31 s, within 28–32 s", () => {
    const plan = planComposition(scenes(), { brandedOutro: true });
    assert.equal(plan.durationSeconds, 31);
    assert.equal(plan.cuts.branded.length, plan.cuts.unbranded.length);
  });

  it("the two cuts share every segment but the outro", () => {
    const plan = planComposition(
      scenes((i) => i === 3),
      { brandedOutro: true },
    );
    const { branded, unbranded } = plan.cuts;
    assert.deepEqual(branded.slice(0, -1), unbranded.slice(0, -1));
    assert.equal(branded.at(-1), "outro-branded");
    assert.equal(unbranded.at(-1), "outro-unbranded");
    const ids = plan.segments.map((segment) => segment.id);
    assert.equal(new Set(ids).size, ids.length, "each segment produced once");
    assert.deepEqual(new Set([...branded, ...unbranded]), new Set(ids), "nothing produced that no cut uses");
  });

  it("burns the title into the first scene, captions into the first GOP of the others, and reuses their tails", () => {
    const plan = planComposition(scenes(), { brandedOutro: true });
    const first = plan.segments.find((segment) => segment.id === "scene-0-burn");
    assert.ok(first?.kind === "burn");
    assert.equal(first.frames, 120, "title runs 0–3 s: both GOPs of the clip");
    assert.deepEqual(
      first.layers.map((layer) => layer.ref),
      [{ kind: "title" }],
    );
    const kitchen = plan.segments.find((segment) => segment.id === "scene-2-burn");
    assert.ok(kitchen?.kind === "burn");
    assert.equal(kitchen.frames, 60, "caption ends by 2 s: only the first GOP is encoded");
    assert.deepEqual(kitchen.layers[0]!.ref, { kind: "caption", text: "Kitchen" });
    const tail = plan.segments.find((segment) => segment.id === "scene-2-tail");
    assert.ok(tail?.kind === "tail");
    assert.equal(tail.fromSeconds, 2);
    assert.deepEqual(plan.encodedSeconds, { burn: 4 + 6 * 2, outro: 6, reusedTail: 12, untouched: 0 });
  });

  it("never re-encodes a clip without overlays", () => {
    const plan = planComposition(scenes(), { brandedOutro: true, captions: false });
    const untouched = plan.segments.filter((segment) => segment.kind === "clip");
    assert.equal(untouched.length, 6);
    for (const segment of untouched)
      assert.ok(segment.kind === "clip" && segment.file === `/w/scene-${segment.sceneIndex}.mp4`);
    assert.equal(plan.encodedSeconds.untouched, 24);
    assert.equal(plan.encodedSeconds.burn, 4);
  });

  it("a generated scene carries the disclosure the whole scene: the clip is burned whole", () => {
    const plan = planComposition(
      scenes((i) => i === 4),
      { brandedOutro: true },
    );
    const bedroom = plan.segments.find((segment) => segment.id === "scene-4-burn");
    assert.ok(bedroom?.kind === "burn");
    assert.equal(bedroom.frames, 120);
    assert.deepEqual(
      bedroom.layers.map((layer) => [layer.ref.kind, layer.start, layer.end]),
      [
        ["disclosure", 0, 4],
        ["caption", 0.4, 1.9],
      ],
    );
    assert.ok(!plan.segments.some((segment) => segment.id === "scene-4-tail"));
  });

  it("with nothing branded to show, one outro serves both cuts", () => {
    const plan = planComposition(scenes(), { brandedOutro: false });
    assert.equal(plan.cuts.branded.at(-1), "outro-shared");
    assert.equal(plan.cuts.unbranded.at(-1), "outro-shared");
    assert.equal(plan.encodedSeconds.outro, 3);
  });

  it("places overlays on the video's timeline", () => {
    const plan = planComposition(
      scenes((i) => i === 1),
      { brandedOutro: true, captionWindow: { start: 0.5, end: 1.8 } },
    );
    const simple = plan.timeline.branded.map((item) => [item.ref.kind, item.start, item.end]);
    assert.deepEqual(simple.slice(0, 4), [
      ["title", 0, 3],
      ["disclosure", 4, 8],
      ["caption", 4.5, 5.8],
      ["caption", 8.5, 9.8],
    ]);
    assert.deepEqual(simple.at(-1), ["outro", 28, 31]);
    assert.equal(overlayKey({ kind: "caption", text: "Kitchen" }), "caption:Kitchen");
  });

  it("a caption override replaces or removes the room name", () => {
    const list = scenes();
    list[1] = { ...list[1]!, caption: "Great room" };
    list[2] = { ...list[2]!, caption: null };
    const plan = planComposition(list, { brandedOutro: true });
    const refs = plan.timeline.branded.map((item) => item.ref);
    assert.ok(refs.some((ref) => ref.kind === "caption" && ref.text === "Great room"));
    assert.ok(plan.segments.some((segment) => segment.id === "scene-2" && segment.kind === "clip"));
  });
});

describe("WebVTT", () => {
  it("writes hours, minutes, seconds and milliseconds", () => {
    assert.equal(vttTimestamp(0), "00:00:00.000");
    assert.equal(vttTimestamp(83.5), "00:01:23.500");
    assert.equal(vttTimestamp(3723.0004), "01:02:03.000");
    assert.throws(() => vttTimestamp(-1));
  });

  it("escapes markup, drops control characters and blank lines", () => {
    assert.equal(escapeCueText("A & B <b>bold</b> --> x"), "A &amp; B &lt;b&gt;bold&lt;/b&gt; --&gt; x");
    assert.equal(escapeCueText("one\n\n two\u0007 "), "one\ntwo");
  });

  it("numbers cues in time order and skips empty ones", () => {
    const vtt = buildWebVtt([
      { start: 4.4, end: 5.9, lines: ["Kitchen"] },
      { start: 0, end: 3, lines: ["JUST LISTED", "1 Main St", "$500,000"] },
      { start: 6, end: 7, lines: ["  "] },
      { start: 8, end: 8, lines: ["zero length"] },
    ]);
    assert.equal(
      vtt,
      "WEBVTT\n\n1\n00:00:00.000 --> 00:00:03.000\nJUST LISTED\n1 Main St\n$500,000\n\n2\n00:00:04.400 --> 00:00:05.900\nKitchen\n",
    );
  });
});
