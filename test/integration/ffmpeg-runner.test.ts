/**
 * The runner and prober against real binaries: the container allowlist refuses playlists and
 * concat scripts (ABUSE 16), timeouts and aborts kill the process (ABUSE 17), temp directories
 * are removed whatever happens, and capabilities are read from the binary.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { AppError } from "../../src/errors.js";
import { assertSameEncoding } from "../../src/media/assembly.js";
import { assertAllowedContainer, probeMedia, runFfmpeg, withTempDir } from "../../src/media/ffmpeg.runner.js";
import { ffmpegCapabilities, findOnPath, resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import {
  concatCopyArgs,
  concatListContent,
  concatReencodeArgs,
  normaliseClipArgs,
} from "../../src/media/ffmpeg-commands.js";
import { fixturePhoto } from "../helpers/fixtures.js";

const bins = resolveFfmpegBinaries({
  ffmpegPath: process.env.PROPVID_TEST_FFMPEG,
  ffprobePath: process.env.PROPVID_TEST_FFPROBE,
  searchPath: process.env.PATH,
});
const isCode = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

/** A generated test clip (lavfi input needs no protocol at all). */
function testClipArgs(outFile: string, seconds: number, size = "320x240", rate = 30): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-protocol_whitelist",
    "file",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-y",
    `file:${outFile}`,
  ];
}

let dir = "";
let release: () => void = () => {};
let done: Promise<unknown> = Promise.resolve();
before(async () => {
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await new Promise<void>((ready) => {
    done = withTempDir("propvid-runner-test", async (created) => {
      dir = created;
      ready();
      await held;
    });
  });
});
after(async () => {
  release();
  await done;
});

describe("binaries", () => {
  it("resolves explicit paths first, then PATH, then the bundled builds", () => {
    const explicit = resolveFfmpegBinaries({ ffmpegPath: bins.ffmpeg, ffprobePath: bins.ffprobe });
    assert.deepEqual(explicit, bins);
    const bundled = resolveFfmpegBinaries({ searchPath: "" });
    assert.match(bundled.ffmpeg, /@ffmpeg-installer/);
    assert.match(bundled.ffprobe, /@ffprobe-installer/);
    assert.throws(() => resolveFfmpegBinaries({ ffmpegPath: "/nonexistent/ffmpeg" }));
    assert.throws(() => resolveFfmpegBinaries({ ffmpegPath: "ffmpeg" }), "relative paths are refused");
    assert.equal(findOnPath("ffmpeg", "relative/dir"), null);
  });

  it("reads capabilities once per binary", async () => {
    const caps = await ffmpegCapabilities(bins.ffmpeg);
    assert.ok(caps.version.length > 0);
    assert.equal(caps.hasLibx264, true);
    assert.equal(caps.hasLoudnorm, true);
    assert.equal(await ffmpegCapabilities(bins.ffmpeg), caps, "cached");
    const bundled = await ffmpegCapabilities(resolveFfmpegBinaries({ searchPath: "" }).ffmpeg);
    assert.equal(bundled.hasXfade, false, "the bundled 2018 build has no xfade");
  });
});

describe("probeMedia and the container allowlist (ABUSE 16)", () => {
  it("describes an MP4 and a JPEG, and accepts them", async () => {
    const clip = path.join(dir, "clip.mp4");
    await runFfmpeg(bins.ffmpeg, testClipArgs(clip, 1), { timeoutMs: 20_000 });
    const info = await probeMedia(bins.ffprobe, clip, { timeoutMs: 10_000 });
    assertAllowedContainer(info);
    assert.equal(info.streams[0]?.codec, "h264");
    assert.equal(info.streams[0]?.frames, 30);
    const photo = await probeMedia(bins.ffprobe, fixturePhoto("exterior-05.jpg"), { timeoutMs: 10_000 });
    assertAllowedContainer(photo);
    assert.equal(photo.streams[0]?.width, 800);
  });

  it("rejects an HLS playlist pointing at local files", async () => {
    const playlist = path.join(dir, "innocent.mp4");
    await writeFile(
      playlist,
      "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXTINF:10,\n/etc/hostname\n#EXT-X-ENDLIST\n",
    );
    await assert.rejects(probeMedia(bins.ffprobe, playlist, { timeoutMs: 10_000 }), isCode("MEDIA_REJECTED"));
    const m3u8 = path.join(dir, "list.m3u8");
    await writeFile(m3u8, "#EXTM3U\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data\n#EXT-X-ENDLIST\n");
    await assert.rejects(probeMedia(bins.ffprobe, m3u8, { timeoutMs: 10_000 }), isCode("MEDIA_REJECTED"));
  });

  it("rejects an ffconcat script", async () => {
    const clip = path.join(dir, "clip.mp4");
    const script = path.join(dir, "script.mov");
    await writeFile(script, `ffconcat version 1.0\nfile '${clip}'\nfile '/etc/passwd'\n`);
    await assert.rejects(probeMedia(bins.ffprobe, script, { timeoutMs: 10_000 }), isCode("MEDIA_REJECTED"));
  });

  it("rejects junk", async () => {
    const junk = path.join(dir, "junk.wav");
    await writeFile(junk, "not media at all");
    await assert.rejects(probeMedia(bins.ffprobe, junk, { timeoutMs: 10_000 }), isCode("MEDIA_REJECTED"));
  });
});

describe("runFfmpeg", () => {
  it("reports progress and keeps the stderr tail on failure", async () => {
    const clip = path.join(dir, "progress.mp4");
    const seen: number[] = [];
    const args = testClipArgs(clip, 2);
    args.splice(args.indexOf("-protocol_whitelist"), 0, "-progress", "pipe:2", "-nostats");
    await runFfmpeg(bins.ffmpeg, args, { timeoutMs: 20_000, onProgress: (s) => seen.push(s) });
    assert.ok(seen.length > 0 && Math.max(...seen) >= 1.9, `progress ${seen.join(",")}`);

    const missing = path.join(dir, "missing.mp4");
    await assert.rejects(
      runFfmpeg(
        bins.ffmpeg,
        ["-hide_banner", "-protocol_whitelist", "file", "-i", `file:${missing}`, "-f", "null", "-"],
        {
          timeoutMs: 10_000,
        },
      ),
      (error: unknown) =>
        error instanceof AppError &&
        error.code === "PROVIDER_FAILED" &&
        error.message.includes("missing.mp4"),
    );
  });

  it("refuses an unsafe argv without spawning", async () => {
    await assert.rejects(
      runFfmpeg(bins.ffmpeg, ["-i", "http://169.254.169.254/", "-f", "null", "-"], { timeoutMs: 1_000 }),
      isCode("MEDIA_REJECTED"),
    );
  });

  it("kills a hung FFmpeg at the wall-clock timeout (ABUSE 17)", async () => {
    // a huge declared duration: would run for an hour
    const started = Date.now();
    const args = testClipArgs(path.join(dir, "hang.mp4"), 3600);
    await assert.rejects(runFfmpeg(bins.ffmpeg, args, { timeoutMs: 400 }), isCode("TIMEOUT"));
    assert.ok(Date.now() - started < 5_000);
  });

  it("kills FFmpeg on abort with CANCELLED", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(
      runFfmpeg(bins.ffmpeg, testClipArgs(path.join(dir, "abort.mp4"), 3600), {
        timeoutMs: 30_000,
        signal: controller.signal,
      }),
      isCode("CANCELLED"),
    );
  });
});

/** A process's nice value and state from /proc (null once it is gone). */
function procNice(pid: number): { nice: number; state: string } | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return { state: fields[0]!, nice: Number(fields[16]) };
  } catch {
    return null;
  }
}

describe("priorities, and runs whose thread ends", () => {
  it("runs a niced thread's FFmpeg at its niceness and autogroup, and kills it when the thread exits", async (t) => {
    if (process.platform !== "linux") return t.skip("thread priorities are Linux's");
    const worker = new Worker(new URL("../helpers/ffmpeg-thread.worker.js", import.meta.url), {
      workerData: {
        ffmpeg: bins.ffmpeg,
        args: testClipArgs(path.join(dir, "orphan.mp4"), 3600),
        niceness: 7,
      },
    });
    const started = await new Promise<{ pid: number; lowered: boolean; ownNice: number }>(
      (resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      },
    );
    assert.equal(started.lowered, true);
    assert.equal(started.ownNice, 7, "the thread itself");
    assert.equal(procNice(process.pid)?.nice, 0, "not the main thread");
    assert.equal(procNice(started.pid)?.nice, 7, "its FFmpeg");
    // Its own session (detached), whose autogroup would otherwise compete with ours at nice 0
    // (on kernels that schedule by autogroup).
    if (existsSync("/proc/self/autogroup")) {
      assert.match(readFileSync(`/proc/${started.pid}/autogroup`, "utf8"), /nice 7$/m);
    }

    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage("exit");
    await exited;
    const deadline = Date.now() + 5_000;
    while (![undefined, "Z"].includes(procNice(started.pid)?.state) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok([undefined, "Z"].includes(procNice(started.pid)?.state), "the run died with its thread");
  });
});

describe("normalising foreign clips", () => {
  it("re-encodes a 6 s 24 fps 1280×720 clip (and a short one) to 540×960 house clips that join by copy", async () => {
    const long = path.join(dir, "ai-long.mp4");
    const short = path.join(dir, "ai-short.mp4");
    await runFfmpeg(bins.ffmpeg, testClipArgs(long, 6, "1280x720", 24), { timeoutMs: 30_000 });
    await runFfmpeg(bins.ffmpeg, testClipArgs(short, 1.5, "640x480", 25), { timeoutMs: 30_000 });
    const outputs = [path.join(dir, "norm-cover.mp4"), path.join(dir, "norm-contain.mp4")];
    await runFfmpeg(
      bins.ffmpeg,
      normaliseClipArgs({ inFile: long, outFile: outputs[0]!, width: 540, height: 960, seconds: 2 }),
      { timeoutMs: 60_000 },
    );
    await runFfmpeg(
      bins.ffmpeg,
      normaliseClipArgs({
        inFile: short,
        outFile: outputs[1]!,
        width: 540,
        height: 960,
        seconds: 2,
        fit: "contain",
      }),
      { timeoutMs: 60_000 },
    );
    const infos = await Promise.all(
      outputs.map((file) => probeMedia(bins.ffprobe, file, { timeoutMs: 10_000 })),
    );
    for (const info of infos) {
      const video = info.streams[0]!;
      assert.equal(video.codec, "h264");
      assert.equal(video.profile, "High");
      assert.equal(video.pixFmt, "yuv420p");
      assert.equal(video.width, 540);
      assert.equal(video.height, 960);
      assert.equal(video.fps, 30);
      assert.equal(video.frames, 60, "exactly 2 s, the short clip's last frame held");
      assert.equal(video.timeBase, "1/15360");
    }
    assert.deepEqual(assertSameEncoding(infos), { width: 540, height: 960, fps: 30, frames: 120 });

    const list = path.join(dir, "norm.ffconcat");
    await writeFile(list, concatListContent(outputs));
    for (const [name, args] of [
      ["copy", concatCopyArgs(list, path.join(dir, "joined-copy.mp4"))],
      ["re-encode", concatReencodeArgs(list, path.join(dir, "joined-reencode.mp4"))],
    ] as const) {
      await runFfmpeg(bins.ffmpeg, args, { timeoutMs: 60_000 });
      const joined = await probeMedia(bins.ffprobe, args.at(-1)!.slice("file:".length), {
        timeoutMs: 10_000,
      });
      assert.equal(joined.streams[0]?.frames, 120, name);
      assert.ok(Math.abs((joined.durationSeconds ?? 0) - 4) < 0.01, `${name}: ${joined.durationSeconds}`);
    }
  });
});

describe("withTempDir (ABUSE 17)", () => {
  it("removes the directory after success and after failure", async () => {
    let kept = "";
    const value = await withTempDir("propvid-tmp-test", async (created) => {
      kept = created;
      await writeFile(path.join(created, "x"), "x");
      return 42;
    });
    assert.equal(value, 42);
    assert.ok(!existsSync(kept));
    await assert.rejects(
      withTempDir("propvid-tmp-test", async (created) => {
        kept = created;
        await writeFile(path.join(created, "y"), "y");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.ok(!existsSync(kept));
  });
});
