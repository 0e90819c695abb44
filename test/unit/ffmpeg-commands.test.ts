import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import {
  assertAllowedContainer,
  assertSafeArgv,
  parseClock,
  parseProbeJson,
} from "../../src/media/ffmpeg.runner.js";
import {
  ALLOWED_DEMUXERS,
  args,
  capabilityArgs,
  concatCopyArgs,
  concatListContent,
  concatReencodeArgs,
  encodeRawFramesArgs,
  HOUSE_VIDEO,
  LOUDNESS_TARGET,
  type LoudnormStats,
  limiterGainFor,
  loudnessMeasureArgs,
  loudnessReportArgs,
  masterScoreArgs,
  muxCopyArgs,
  normaliseClipArgs,
  parseEbur128Summary,
  parseLoudnormJson,
  posterArgs,
  probeArgs,
  scoreShapingFilter,
} from "../../src/media/ffmpeg-commands.js";

const measured: LoudnormStats = {
  input_i: "-27.61",
  input_tp: "-12.40",
  input_lra: "3.20",
  input_thresh: "-37.90",
  target_offset: "0.35",
};

/** Every builder, with representative arguments. */
const BUILDERS: Record<string, string[]> = {
  encodeRawFramesRgb: encodeRawFramesArgs({
    width: 1920,
    height: 1080,
    fps: 30,
    frames: 120,
    outFile: "/w/a.mp4",
  }),
  encodeRawFramesYuv: encodeRawFramesArgs({
    width: 1080,
    height: 1920,
    fps: 30,
    frames: 60,
    outFile: "/w/b.mp4",
    pixelFormat: "yuv420p",
  }),
  concatCopy: concatCopyArgs("/w/list.ffconcat", "/w/joined.mp4"),
  concatReencode: concatReencodeArgs("/w/list.ffconcat", "/w/joined.mp4"),
  loudnessMeasure: loudnessMeasureArgs("/w/score.wav"),
  loudnessMeasureShaped: loudnessMeasureArgs("/w/score.wav", {
    durationSeconds: 12,
    fadeInSeconds: 1,
    fadeOutSeconds: 2,
  }),
  masterScore: masterScoreArgs({
    audioFile: "/w/score.wav",
    durationSeconds: 12,
    fadeInSeconds: 1,
    fadeOutSeconds: 2,
    measured,
    outFile: "/w/score.m4a",
  }),
  muxCopy: muxCopyArgs({
    listFile: "/w/list.ffconcat",
    audioFile: "/w/score.m4a",
    durationSeconds: 12,
    outFile: "/w/final.mp4",
  }),
  poster: posterArgs("/w/final.mp4", 1, "/w/poster.jpg"),
  normaliseClip: normaliseClipArgs({
    inFile: "/w/ai.mp4",
    outFile: "/w/n.mp4",
    width: 1920,
    height: 1080,
    seconds: 4,
  }),
  normaliseClipContain: normaliseClipArgs({
    inFile: "/w/ai.mp4",
    outFile: "/w/n.mp4",
    width: 1080,
    height: 1080,
    seconds: 4,
    fit: "contain",
  }),
  probe: probeArgs("/w/x.mp4"),
  capabilityVersion: capabilityArgs("version"),
  capabilityFilters: capabilityArgs("filters"),
  loudnessReport: loudnessReportArgs("/w/final.mp4"),
};

const optionValue = (args: string[], flag: string): string | undefined => {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : args[index + 1];
};

const inputsOf = (args: string[]): string[] => args.flatMap((arg, i) => (arg === "-i" ? [args[i + 1]!] : []));

describe("ffmpeg argv builders (ABUSE 18)", () => {
  for (const [name, args] of Object.entries(BUILDERS)) {
    it(`${name}: -protocol_whitelist before every input, no URL`, () => {
      assert.ok(args.includes("-protocol_whitelist"), "argv lacks -protocol_whitelist");
      // each -i is preceded (since the previous -i) by a whitelist of file/pipe only
      let whitelisted = false;
      for (let i = 0; i < args.length; i += 1) {
        if (args[i] === "-protocol_whitelist") {
          assert.match(args[i + 1]!, /^(file|pipe)(,(file|pipe))*$/);
          whitelisted = true;
        }
        if (args[i] === "-i") {
          assert.ok(whitelisted, `input ${args[i + 1]} is not whitelisted`);
          whitelisted = false;
        }
      }
      for (const arg of args) {
        assert.doesNotMatch(
          arg,
          /https?:|:\/\/|rtmp|tcp:|udp:|concat:|subfile:|data:/i,
          `suspicious arg ${arg}`,
        );
      }
      for (const input of inputsOf(args)) assert.match(input, /^(file:\/|pipe:0$)/);
      assert.doesNotThrow(() => assertSafeArgv(args));
    });
  }

  it("uses the house encoder settings wherever it encodes video", () => {
    for (const name of ["encodeRawFramesRgb", "encodeRawFramesYuv", "concatReencode", "normaliseClip"]) {
      const args = BUILDERS[name]!;
      assert.equal(optionValue(args, "-c:v"), "libx264", name);
      assert.equal(optionValue(args, "-profile:v"), "high", name);
      assert.equal(optionValue(args, "-pix_fmt") === "yuv420p" || args.includes("yuv420p"), true, name);
      assert.equal(optionValue(args, "-preset"), HOUSE_VIDEO.preset, name);
      assert.equal(optionValue(args, "-crf"), String(HOUSE_VIDEO.crf), name);
      assert.equal(optionValue(args, "-g"), "60", name);
      assert.equal(optionValue(args, "-keyint_min"), "60", name);
      assert.equal(optionValue(args, "-sc_threshold"), "0", name);
      assert.equal(optionValue(args, "-video_track_timescale"), String(HOUSE_VIDEO.timescale), name);
      assert.ok(!args.includes("+faststart"), `${name}: faststart belongs to the final mux only`);
    }
  });

  it("encodes exactly the requested frames from pipe:0", () => {
    const rgb = BUILDERS.encodeRawFramesRgb!;
    assert.equal(optionValue(rgb, "-f"), "rawvideo");
    assert.equal(optionValue(rgb, "-pix_fmt"), "rgb24");
    assert.equal(optionValue(rgb, "-s"), "1920x1080");
    assert.equal(optionValue(rgb, "-framerate"), "30");
    assert.equal(optionValue(rgb, "-frames:v"), "120");
    assert.equal(optionValue(rgb, "-protocol_whitelist"), "file,pipe");
    assert.match(optionValue(rgb, "-vf")!, /out_color_matrix=bt709/);
    const yuv = BUILDERS.encodeRawFramesYuv!;
    assert.equal(optionValue(yuv, "-pix_fmt"), "yuv420p");
    assert.equal(optionValue(yuv, "-s"), "1080x1920");
    assert.equal(optionValue(yuv, "-vf"), undefined, "yuv420p input needs no conversion");
    assert.equal(yuv.at(-1), "file:/w/b.mp4");
    // one encoder thread per clip: scenes render side by side, and x264's frame threads cost
    // ~14 % more CPU a frame for nothing then (npm run bench -- render-cpu)
    assert.equal(optionValue(yuv, "-threads"), "1");
    assert.throws(() =>
      encodeRawFramesArgs({ width: 1919, height: 1080, fps: 30, frames: 1, outFile: "/w/x.mp4" }),
    );
    assert.throws(() =>
      encodeRawFramesArgs({ width: 1920, height: 1080, fps: 30, frames: 0, outFile: "/w/x.mp4" }),
    );
  });

  it("joins by stream copy through the concat demuxer", () => {
    const args = BUILDERS.concatCopy!;
    assert.equal(optionValue(args, "-f"), "concat");
    assert.equal(optionValue(args, "-safe"), "0");
    assert.equal(optionValue(args, "-c"), "copy");
    assert.equal(optionValue(args, "-format_whitelist"), "concat,mov,mp4");
    assert.ok(!args.includes("libx264"));
  });

  it("writes a concat list of absolute, quoted paths", () => {
    const text = concatListContent(["/w/a.mp4", "/w/it's.mp4"]);
    assert.equal(text, "ffconcat version 1.0\nfile '/w/a.mp4'\nfile '/w/it'\\''s.mp4'\n");
    assert.throws(() => concatListContent(["relative.mp4"]));
    assert.throws(() => concatListContent(["/w/a\nfile /etc/passwd"]));
  });

  it("measures loudness with the same shaping the master applies", () => {
    const shaping = { durationSeconds: 12, fadeInSeconds: 1, fadeOutSeconds: 2 };
    const measure = optionValue(BUILDERS.loudnessMeasureShaped!, "-af")!;
    const master = optionValue(BUILDERS.masterScore!, "-af")!;
    assert.ok(measure.startsWith(scoreShapingFilter(shaping)));
    assert.ok(master.startsWith(scoreShapingFilter(shaping)));
    assert.match(measure, /loudnorm=I=-16:TP=-1\.5:LRA=11:print_format=json$/);
    assert.match(scoreShapingFilter(shaping), /atrim=end_sample=576000/);
    assert.match(scoreShapingFilter(shaping), /afade=t=out:st=10:d=2/);
    assert.deepEqual(BUILDERS.loudnessMeasure!.slice(-3), ["-f", "null", "-"]);
  });

  it("limits a score too peaky for a plain gain, and only such a score", () => {
    // −27.6 LUFS with peaks at −12.4: +11.6 dB puts peaks at −0.8, over the −1.5 target
    assert.equal(limiterGainFor(measured), Math.round((-16 + 27.61 + 1) * 100) / 100);
    assert.equal(limiterGainFor({ input_i: "-24", input_tp: "-12" }), null, "peaks land at −4: plain gain");
    // after a limiter pass at +12 dB that came out at −17.5 LUFS: raise by the shortfall + 1
    assert.equal(limiterGainFor({ input_i: "-17.5", input_tp: "-2.5" }, 12), 14.5);
    assert.equal(limiterGainFor({ input_i: "-15.9", input_tp: "-2.8" }, 15.4), null);
    // a lowered peak target makes the same score need the limiter
    assert.notEqual(limiterGainFor({ input_i: "-24", input_tp: "-12" }, null, -5), null);
    const chain = scoreShapingFilter({
      durationSeconds: 4,
      fadeInSeconds: 0,
      fadeOutSeconds: 0,
      limiterGainDb: 9.5,
    });
    assert.match(
      chain,
      /volume=9\.50dB,aresample=192000,alimiter=limit=0\.7079:attack=5:release=50:level=false,aresample=48000$/,
    );
    const lowered = optionValue(
      loudnessMeasureArgs("/w/s.wav", {
        durationSeconds: 4,
        fadeInSeconds: 0,
        fadeOutSeconds: 0,
        truePeakDbtp: -2.5,
      }),
      "-af",
    )!;
    assert.match(lowered, /loudnorm=I=-16:TP=-2\.5:/);
    assert.equal(LOUDNESS_TARGET.integratedLufs, -16);
    assert.ok(LOUDNESS_TARGET.truePeakDbtp < LOUDNESS_TARGET.maxTruePeakDbtp);
  });

  it("masters: audio only, loudnorm second pass, AAC 192k 48 kHz stereo, exact -t, faststart", () => {
    const args = BUILDERS.masterScore!;
    assert.deepEqual(inputsOf(args), ["file:/w/score.wav"]);
    assert.equal(optionValue(args, "-map"), "0:a:0");
    assert.equal(optionValue(args, "-c:v"), undefined, "no video in the master");
    assert.equal(optionValue(args, "-c:a"), "aac");
    assert.equal(optionValue(args, "-b:a"), "192k");
    assert.equal(optionValue(args, "-ar"), "48000");
    assert.equal(optionValue(args, "-ac"), "2");
    assert.equal(optionValue(args, "-t"), "12");
    assert.equal(optionValue(args, "-movflags"), "+faststart");
    assert.equal(optionValue(args, "-f"), "mp4");
    assert.equal(args.at(-1), "file:/w/score.m4a");
    const af = optionValue(args, "-af")!;
    for (const part of [
      "measured_I=-27.61",
      "measured_TP=-12.4",
      "measured_LRA=3.2",
      "measured_thresh=-37.9",
      "offset=0.35",
      "linear=true",
      "I=-16",
      "TP=-1.5",
    ]) {
      assert.ok(af.includes(part), `missing ${part} in ${af}`);
    }
    assert.match(af, /,aresample=48000$/);
    assert.throws(() =>
      masterScoreArgs({
        audioFile: "/w/a.wav",
        durationSeconds: 4,
        fadeInSeconds: 0,
        fadeOutSeconds: 0,
        measured: { ...measured, input_i: "-inf; rm -rf" },
        outFile: "/w/o.m4a",
      }),
    );
  });

  it("assembles by copy: clips joined and the master muxed, nothing re-encoded, exact -t, faststart", () => {
    const args = BUILDERS.muxCopy!;
    assert.deepEqual(inputsOf(args), ["file:/w/list.ffconcat", "file:/w/score.m4a"]);
    assert.equal(optionValue(args, "-f"), "concat");
    assert.equal(optionValue(args, "-safe"), "0");
    assert.equal(optionValue(args, "-format_whitelist"), "concat,mov,mp4");
    assert.deepEqual(
      args.flatMap((arg, i) => (arg === "-map" ? [args[i + 1]] : [])),
      ["0:v:0", "1:a:0"],
    );
    assert.equal(optionValue(args, "-c:v"), "copy");
    assert.equal(optionValue(args, "-c:a"), "copy");
    assert.ok(
      !args.includes("-af") && !args.includes("-vf") && !args.includes("libx264") && !args.includes("aac"),
    );
    assert.equal(optionValue(args, "-t"), "12");
    assert.equal(optionValue(args, "-video_track_timescale"), String(HOUSE_VIDEO.timescale));
    assert.equal(optionValue(args, "-movflags"), "+faststart");
    assert.equal(args.at(-1), "file:/w/final.mp4");
    assert.throws(() =>
      muxCopyArgs({ listFile: "list", audioFile: "/w/a.m4a", durationSeconds: 4, outFile: "/w/o.mp4" }),
    );
  });

  it("extracts a JPEG poster with input seeking", () => {
    const args = BUILDERS.poster!;
    assert.ok(args.indexOf("-ss") < args.indexOf("-i"));
    assert.equal(optionValue(args, "-ss"), "1");
    assert.equal(optionValue(args, "-frames:v"), "1");
    assert.equal(args.at(-1), "file:/w/poster.jpg");
  });

  it("normalises a foreign clip to size, 30 fps and exact length", () => {
    const cover = BUILDERS.normaliseClip!;
    assert.equal(optionValue(cover, "-frames:v"), "120");
    assert.match(
      optionValue(cover, "-vf")!,
      /^fps=30,scale=1920:1080:force_original_aspect_ratio=increase,crop=1920:1080/,
    );
    assert.match(optionValue(cover, "-vf")!, /tpad=stop_mode=clone/);
    assert.equal(optionValue(cover, "-format_whitelist"), ALLOWED_DEMUXERS.join(","));
    assert.match(optionValue(BUILDERS.normaliseClipContain!, "-vf")!, /pad=1080:1080/);
  });

  it("refuses relative paths and names that would parse as protocols", () => {
    assert.throws(() => posterArgs("video.mp4", 1, "/w/p.jpg"));
    assert.throws(() => probeArgs("concat:/a|/b"));
    assert.throws(() => probeArgs("http://example.invalid/x.mp4"));
    // an absolute path that merely contains "http:" stays a file
    assert.equal(probeArgs("/w/http:x.mp4").at(-1), "file:/w/http:x.mp4");
  });
});

describe("argv template", () => {
  it("splits literal text, keeps each value whole, spreads arrays", () => {
    const path = "file:/w/my clip.mp4";
    assert.deepEqual(args`-i ${path} -vf ${"scale=1:2, format=x"} ${["-a", "b c"]} -t ${4}`, [
      "-i",
      "file:/w/my clip.mp4",
      "-vf",
      "scale=1:2, format=x",
      "-a",
      "b c",
      "-t",
      "4",
    ]);
    assert.deepEqual(args`${"x"}`, ["x"]);
  });

  it("refuses a value glued to text or to another value", () => {
    assert.throws(() => args`-i file:${"/w/a.mp4"}`);
    assert.throws(() => args`-s ${1920}x${1080}`);
    assert.throws(() => args`${"a"}${"b"}`);
  });
});

describe("runner argv guard", () => {
  it("rejects missing whitelists, wide whitelists and foreign URLs", () => {
    const expectRejected = (args: string[]) =>
      assert.throws(
        () => assertSafeArgv(args),
        (error: unknown) => error instanceof AppError && error.code === "MEDIA_REJECTED",
      );
    expectRejected(["-i", "file:/w/a.mp4", "file:/w/b.mp4"]);
    expectRejected(["-protocol_whitelist", "file,http,tcp", "-i", "file:/w/a.mp4"]);
    expectRejected(["-protocol_whitelist", "file", "-i", "http://example.invalid/a.mp4"]);
    expectRejected([
      "-protocol_whitelist",
      "file",
      "-i",
      "file:/w/a.mp4",
      "-i",
      "file:/w/b.wav",
      "file:/w/o.mp4",
    ]);
    expectRejected(["-protocol_whitelist", "file", "-i", "concat:/w/a.mp4|/w/b.mp4", "file:/w/o.mp4"]);
    expectRejected(["-protocol_whitelist", "file", "-i", "file:/w/a.mp4", "tcp:127.0.0.1:9"]);
    assert.doesNotThrow(() =>
      assertSafeArgv(["-protocol_whitelist", "file", "-i", "file:/w/a.mp4", "-f", "null", "-"]),
    );
  });

  it("parses FFmpeg clocks", () => {
    assert.equal(parseClock("00:00:04.000000"), 4);
    assert.equal(parseClock("01:02:03.5"), 3723.5);
    assert.equal(parseClock("N/A"), null);
  });
});

describe("container allowlist (ABUSE 16)", () => {
  it("accepts the containers we read", () => {
    for (const formatName of [
      "mov,mp4,m4a,3gp,3g2,mj2",
      "wav",
      "mp3",
      "aac",
      "image2",
      "png_pipe",
      "jpeg_pipe",
    ]) {
      assert.doesNotThrow(() => assertAllowedContainer({ formatName }), formatName);
    }
  });

  it("rejects playlists, concat scripts and anything else", () => {
    for (const formatName of ["hls", "hls,applehttp", "concat", "tty", "lavfi", "sdp", "rtsp", ""]) {
      assert.throws(
        () => assertAllowedContainer({ formatName }),
        (error: unknown) => error instanceof AppError && error.code === "MEDIA_REJECTED",
        formatName,
      );
    }
  });
});

describe("output parsers", () => {
  it("reads loudnorm's JSON from stderr lines", () => {
    const lines = [
      "[Parsed_loudnorm_0 @ 0x55d5] ",
      "{",
      '\t"input_i" : "-27.61",',
      '\t"input_tp" : "-12.40",',
      '\t"input_lra" : "3.20",',
      '\t"input_thresh" : "-37.90",',
      '\t"output_i" : "-16.02",',
      '\t"output_tp" : "-1.50",',
      '\t"output_lra" : "3.10",',
      '\t"output_thresh" : "-26.30",',
      '\t"normalization_type" : "linear",',
      '\t"target_offset" : "0.02"',
      "}",
    ];
    const stats = parseLoudnormJson(lines);
    assert.equal(stats.input_i, "-27.61");
    assert.equal(stats.normalization_type, "linear");
    assert.throws(() => parseLoudnormJson(["no json here"]));
    assert.throws(() => parseLoudnormJson(lines.map((line) => line.replace('"-27.61"', '"-inf"'))));
  });

  it("reads ebur128's summary", () => {
    const lines = [
      "[Parsed_ebur128_0 @ 0x1] t: 5.9     TARGET:-23 LUFS    M: -15.9 S: -16.1     I: -16.0 LUFS       LRA:   1.1 LU",
      "[Parsed_ebur128_0 @ 0x1] Summary:",
      "",
      "  Integrated loudness:",
      "    I:         -15.8 LUFS",
      "    Threshold: -26.0 LUFS",
      "",
      "  True peak:",
      "    Peak:       -1.4 dBFS",
    ];
    assert.deepEqual(parseEbur128Summary(lines), { integratedLufs: -15.8, truePeakDbtp: -1.4 });
    assert.throws(() => parseEbur128Summary(lines.slice(0, 1)));
  });

  it("maps ffprobe JSON", () => {
    const info = parseProbeJson(
      JSON.stringify({
        streams: [
          {
            codec_type: "video",
            codec_name: "h264",
            profile: "High",
            width: 1920,
            height: 1080,
            pix_fmt: "yuv420p",
            avg_frame_rate: "30/1",
            r_frame_rate: "30/1",
            time_base: "1/15360",
            nb_frames: "120",
            duration: "4.000000",
          },
          {
            codec_type: "audio",
            codec_name: "aac",
            sample_rate: "48000",
            channels: 2,
            avg_frame_rate: "0/0",
          },
        ],
        format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "4.000000", size: "123" },
      }),
    );
    assert.equal(info.durationSeconds, 4);
    assert.equal(info.byteSize, 123);
    assert.deepEqual(info.streams[0], {
      type: "video",
      codec: "h264",
      width: 1920,
      height: 1080,
      fps: 30,
      frames: 120,
      sampleRate: null,
      channels: null,
      profile: "High",
      pixFmt: "yuv420p",
      timeBase: "1/15360",
      durationSeconds: 4,
    });
    assert.equal(info.streams[1]!.sampleRate, 48000);
    assert.equal(info.streams[1]!.fps, null);
    assert.throws(() => parseProbeJson("{}"));
  });
});
