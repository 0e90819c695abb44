import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertSafeArgv } from "../../src/media/ffmpeg.runner.js";
import { houseVideoCodecArgs } from "../../src/media/ffmpeg-commands.js";
import {
  burnOverlaysArgs,
  cutListContent,
  halfEven,
  layerFilter,
  outroClipArgs,
} from "../../src/render/overlay-commands.js";

const burn = burnOverlaysArgs({
  inFile: "/w/scene-1.mp4",
  outFile: "/w/scene-1-burn.mp4",
  frames: 60,
  layers: [
    { pngFile: "/w/disclosure.png", x: 96, y: 919, start: 0, end: 4, fadeSeconds: 0 },
    { pngFile: "/w/caption.png", x: 96, y: 54, start: 0.4, end: 1.9, fadeSeconds: 0.3 },
  ],
});
const OUTRO_OPTIONS = {
  backgroundFile: "/w/bg.png",
  cards: [
    { cardFile: "/w/card.png", cardX: 96, cardY: 148, outFile: "/w/outro.mp4" },
    { cardFile: "/w/card-2.png", cardX: 96, cardY: 900, outFile: "/w/outro-2.mp4" },
  ],
  width: 1080,
  height: 1350,
  seconds: 3,
};
const outro = outroClipArgs(OUTRO_OPTIONS);

const argAfter = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1]!;
const inputs = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === "-i");

describe("overlay FFmpeg builders", () => {
  it("every input is whitelisted to local files and formats, paths as file: URLs", () => {
    for (const argv of [burn, outro]) {
      assertSafeArgv(argv);
      for (const input of inputs(argv)) assert.match(input, /^file:\//);
      const formats = argv.filter((_, i) => argv[i - 1] === "-format_whitelist");
      assert.equal(formats.length, inputs(argv).length, "a format whitelist per input");
    }
  });

  it("burn: one looped PNG input per layer, each blended only in its window, house encoding", () => {
    assert.deepEqual(inputs(burn), ["file:/w/scene-1.mp4", "file:/w/disclosure.png", "file:/w/caption.png"]);
    const graph = argAfter(burn, "-filter_complex");
    assert.match(graph, /\[1:v\]format=rgba,scale=out_color_matrix=bt709:out_range=tv,format=yuva420p\[l0\]/);
    assert.match(graph, /\[0:v\]\[l0\]overlay=x=96:y=919:eof_action=pass:enable='between\(t,0,4\)'\[v0\]/);
    assert.match(graph, /fade=t=in:st=0\.4:d=0\.3:alpha=1,fade=t=out:st=1\.6:d=0\.3:alpha=1/);
    assert.match(graph, /\[v1\]format=yuv420p\[out\]$/);
    assert.equal(argAfter(burn, "-frames:v"), "60");
    assert.ok(burn.join(" ").includes(houseVideoCodecArgs().join(" ")), "house encoding");
    assert.ok(!graph.includes("xfade"), "no filter FFmpeg 4.1 lacks");
    // each looped still lasts until its layer's end
    assert.deepEqual(
      burn.filter((_, i) => burn[i - 1] === "-t"),
      ["4", "1.9"],
    );
  });

  it("burn refuses nothing to burn and a bad frame count", () => {
    assert.throws(() =>
      burnOverlaysArgs({ inFile: "/w/a.mp4", outFile: "/w/b.mp4", frames: 60, layers: [] }),
    );
    assert.throws(() =>
      burnOverlaysArgs({
        inFile: "/w/a.mp4",
        outFile: "/w/b.mp4",
        frames: 0,
        layers: [{ pngFile: "/w/l.png", x: 0, y: 0, start: 0, end: 1, fadeSeconds: 0 }],
      }),
    );
  });

  it("layer fades are clamped to half the window and may be left out", () => {
    assert.equal(layerFilter({ start: 1, end: 1.4, fadeIn: 1, fadeOut: 0 }).match(/d=([\d.]+)/)?.[1], "0.2");
    assert.doesNotMatch(layerFilter({ start: 0, end: 3, fadeIn: 0, fadeOut: 0 }), /fade/);
    assert.throws(() => layerFilter({ start: 2, end: 2, fadeIn: 0, fadeOut: 0 }));
  });

  it("cut list: files with their durations, a clip's tail by in-point", () => {
    assert.equal(
      cutListContent([
        { file: "/w/scene-1-burn.mp4", duration: 2 },
        { file: "/w/it's.mp4", inpoint: 2, duration: 2 },
        { file: "/w/outro.mp4", duration: 3 },
      ]),
      "ffconcat version 1.0\nfile '/w/scene-1-burn.mp4'\nduration 2\nfile '/w/it'\\''s.mp4'\ninpoint 2\nduration 2\nfile '/w/outro.mp4'\nduration 3\n",
    );
    assert.throws(() => cutListContent([{ file: "/w/a.mp4", duration: 0 }]));
  });

  it("outro: a push at half size, scaled to the frame, the card on top, exact frame count", () => {
    const graph = argAfter(outro, "-filter_complex");
    assert.match(
      graph,
      /format=yuv420p,zoompan=z='1\+0\.0006742\*on':[^,]*:d=90:s=540x676:fps=30,scale=1080:1350:flags=bilinear/,
    );
    // the background is read once (zoompan makes the frames), not looped and decoded per frame
    assert.ok(!outro.includes("-loop"), outro.join(" "));
    // one push, split between the cards; each card over its copy, into its own output
    assert.match(graph, /scale=1080:1350:flags=bilinear,setsar=1,split=2\[bg0\]\[bg1\];/);
    assert.match(graph, /\[bg0\]\[card0\]overlay=x=96:y=148:eof_action=repeat,format=yuv420p\[out0\]/);
    assert.match(graph, /\[bg1\]\[card1\]overlay=x=96:y=900:eof_action=repeat,format=yuv420p\[out1\]/);
    assert.deepEqual(inputs(outro), ["file:/w/bg.png", "file:/w/card.png", "file:/w/card-2.png"]);
    const outputs = outro.flatMap((arg, i) => (arg === "-map" ? [[outro[i + 1], outro[i + 3]]] : []));
    assert.deepEqual(outputs, [
      ["[out0]", "90"],
      ["[out1]", "90"],
    ]);
    assert.deepEqual(
      outro.filter((arg) => arg.startsWith("file:/w/outro")),
      ["file:/w/outro.mp4", "file:/w/outro-2.mp4"],
    );
    const single = outroClipArgs({ ...OUTRO_OPTIONS, cards: OUTRO_OPTIONS.cards.slice(0, 1) });
    assert.match(argAfter(single, "-filter_complex"), /setsar=1\[bg0\];/);
    assert.throws(() => outroClipArgs({ ...OUTRO_OPTIONS, cards: [] }), /card/);
    assert.equal(halfEven(1350), 676);
    assert.equal(halfEven(1920), 960);
    assert.throws(() => outroClipArgs({ ...OUTRO_OPTIONS, width: 1079 }), /even/);
    assert.throws(() => outroClipArgs({ ...OUTRO_OPTIONS, endZoom: 3 }), /zoom/);
  });

  it("refuses relative paths and control characters in file names", () => {
    assert.throws(() => cutListContent([{ file: "scene.mp4", duration: 1 }]));
    assert.throws(() => cutListContent([{ file: "/w/a.mp4\nfile '/etc/passwd'", duration: 1 }]));
  });
});
