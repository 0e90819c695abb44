import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse, types } from "hls-parser";
import { masterPlaylist, mediaPlaylist, PLAYLIST_FILE } from "../../src/delivery/hls-playlists.js";
import { planRenditions, renditionsArgs } from "../../src/delivery/rendition-commands.js";
import { codecsFromInit, indexFromPlaylist } from "../../src/delivery/rendition-index.js";
import { assertSafeArgv } from "../../src/media/ffmpeg.runner.js";

/** What FFmpeg 5.1's HLS muxer writes in single_file fMP4 mode. */
const FFMPEG_PLAYLIST = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="480p.mp4",BYTERANGE="1377@0"
#EXTINF:4.000000,
#EXT-X-BYTERANGE:532232@1377
480p.mp4
#EXTINF:4.000000,
#EXT-X-BYTERANGE:551752@533609
480p.mp4
#EXTINF:2.500000,
#EXT-X-BYTERANGE:543719@1085361
480p.mp4
#EXT-X-ENDLIST
`;

describe("rendition ladder", () => {
  it("plans the source copy and every smaller rung, by the short side", () => {
    assert.deepEqual(
      planRenditions(1920, 1080).map((plan) => [
        plan.label,
        plan.width,
        plan.height,
        plan.rung?.videoKbps ?? null,
      ]),
      [
        ["1080p", 1920, 1080, null],
        ["720p", 1280, 720, 3000],
        ["480p", 854, 480, 1200],
      ],
    );
    assert.deepEqual(
      planRenditions(1080, 1920).map((plan) => [plan.label, plan.width, plan.height]),
      [
        ["1080p", 1080, 1920],
        ["720p", 720, 1280],
        ["480p", 480, 854],
      ],
    );
    assert.deepEqual(
      planRenditions(1280, 720).map((plan) => plan.label),
      ["720p", "480p"],
      "never upscales",
    );
  });

  it("builds one safe FFmpeg run: one decode, a stream copy and two encodes, each an fMP4 in one file", () => {
    const argv = renditionsArgs({
      input: "/tmp/w/source.mp4",
      dir: "/tmp/w",
      planned: planRenditions(1920, 1080),
      fps: 30,
    });
    assert.doesNotThrow(() => assertSafeArgv(argv));
    assert.equal(argv.filter((arg) => arg === "-i").length, 1);
    const graph = argv[argv.indexOf("-filter_complex") + 1]!;
    assert.match(graph, /split=2\[s0\]\[s1\]/);
    assert.match(graph, /scale=1280:720/);
    assert.match(graph, /scale=854:480/);
    assert.equal(argv.filter((arg) => arg === "single_file").length, 3);
    assert.equal(argv.filter((arg) => arg === "fmp4").length, 3);
    assert.deepEqual(
      argv.filter((arg) => arg.endsWith(".mp4") && arg.startsWith("/tmp/w/") && arg !== "/tmp/w/source.mp4"),
      ["/tmp/w/1080p.mp4", "/tmp/w/720p.mp4", "/tmp/w/480p.mp4"],
    );
    assert.equal(argv.filter((arg, i) => arg === "60" && argv[i - 1] === "-g").length, 2, "2 s keyframes");
    // Audio is copied on every rung: the same AAC track, exactly the source's duration.
    assert.equal(argv.filter((arg, i) => arg === "copy" && argv[i - 1] === "-c:a").length, 2);
  });
});

describe("segment index and playlists", () => {
  const index = indexFromPlaylist(FFMPEG_PLAYLIST, 1085361 + 543719);

  it("keeps FFmpeg's byte ranges and computes the bandwidths", () => {
    assert.deepEqual(index.segments, {
      init: [0, 1377],
      parts: [
        [4, 1377, 532232],
        [4, 533609, 551752],
        [2.5, 1085361, 543719],
      ],
    });
    assert.equal(index.durationSeconds, 10.5);
    assert.equal(index.bandwidth, Math.ceil((543719 * 8) / 2.5));
    assert.equal(index.averageBandwidth, Math.ceil(((1085361 + 543719) * 8) / 10.5));
    assert.throws(() => indexFromPlaylist(FFMPEG_PLAYLIST, 1000), /past the file/);
  });

  it("reads the codecs from the avcC box", () => {
    const init = Buffer.concat([
      Buffer.from("....ftypiso6....moov....avcC"),
      Buffer.from([1, 0x64, 0x00, 0x28, 0xff]),
      Buffer.from("....mp4a"),
    ]);
    assert.equal(codecsFromInit(init), "avc1.640028,mp4a.40.2");
    assert.throws(() => codecsFromInit(Buffer.from("nothing here")), /avcC/);
  });

  it("writes playlists that parse back to the same ranges, variants best first", () => {
    const rendition = { label: "480p", width: 854, height: 480, codecs: "avc1.4d401f,mp4a.40.2", ...index };
    const media = parse(mediaPlaylist(rendition, "../../media/abc?token=t")) as types.MediaPlaylist;
    assert.equal(media.endlist, true);
    assert.equal(media.playlistType, "VOD");
    assert.equal(media.targetDuration, 4);
    assert.deepEqual(media.segments[0]!.map.byterange, { offset: 0, length: 1377 });
    assert.deepEqual(
      media.segments.map((segment) => [segment.duration, segment.byterange.offset, segment.byterange.length]),
      index.segments.parts,
    );
    const text = masterPlaylist(
      [
        rendition,
        { ...rendition, label: "720p", width: 1280, height: 720, bandwidth: rendition.bandwidth * 2 },
      ],
      (label) => `${label}.m3u8?token=t`,
    );
    const master = parse(text) as types.MasterPlaylist;
    assert.deepEqual(
      master.variants.map((variant) => [variant.uri, variant.resolution?.height, variant.codecs]),
      [
        ["720p.m3u8?token=t", 720, "avc1.4d401f,mp4a.40.2"],
        ["480p.m3u8?token=t", 480, "avc1.4d401f,mp4a.40.2"],
      ],
    );
    assert.ok(PLAYLIST_FILE.test("master.m3u8") && PLAYLIST_FILE.test("1080p.m3u8"));
    assert.ok(!PLAYLIST_FILE.test("../x.m3u8") && !PLAYLIST_FILE.test("720p.mp4"));
  });
});
