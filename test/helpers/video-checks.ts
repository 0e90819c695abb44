import { open } from "node:fs/promises";
import { runFfmpeg } from "../../src/media/ffmpeg.runner.js";
import { loudnessReportArgs, parseEbur128Summary } from "../../src/media/ffmpeg-commands.js";

/** Top-level MP4 box types in file order (`moov` before `mdat` means faststart). */
export async function topLevelBoxes(file: string): Promise<string[]> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const types: string[] = [];
    const head = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= size) {
      await handle.read(head, 0, 16, offset);
      let boxSize = head.readUInt32BE(0);
      const type = head.toString("latin1", 4, 8);
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - offset;
      if (boxSize < 8) throw new Error(`bad box ${type} at ${offset}`);
      types.push(type);
      offset += boxSize;
    }
    return types;
  } finally {
    await handle.close();
  }
}

/** FFmpeg's stderr lines for an analysis run. */
export async function ffmpegLines(ffmpeg: string, args: string[], timeoutMs = 120_000): Promise<string[]> {
  const lines: string[] = [];
  await runFfmpeg(ffmpeg, args, { timeoutMs, onStderrLine: (line) => lines.push(line) });
  return lines;
}

export async function measureLoudness(
  ffmpeg: string,
  file: string,
): Promise<{ integratedLufs: number; truePeakDbtp: number }> {
  return parseEbur128Summary(await ffmpegLines(ffmpeg, loudnessReportArgs(file)));
}

/** Runs one analysis filter over one stream of a local file, output discarded (stderr has the findings). */
function analysisArgs(file: string, stream: string, filterFlag: "-vf" | "-af", filter: string): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "info",
    "-protocol_whitelist",
    "file",
    "-i",
    `file:${file}`,
    "-map",
    stream,
    filterFlag,
    filter,
    "-f",
    "null",
    "-",
  ];
}

/** Black stretches (≥ 0.1 s) and frozen stretches (≥ 1 s) of the video, from blackdetect and freezedetect. */
export async function blackAndFrozen(
  ffmpeg: string,
  file: string,
): Promise<{ black: { start: number; end: number }[]; frozen: number[] }> {
  const lines = await ffmpegLines(
    ffmpeg,
    analysisArgs(file, "0:v:0", "-vf", "blackdetect=d=0.1:pix_th=0.10,freezedetect=n=-60dB:d=1"),
  );
  const black = lines.flatMap((line) => {
    const match = /black_start:([\d.]+) black_end:([\d.]+)/.exec(line);
    return match ? [{ start: Number(match[1]), end: Number(match[2]) }] : [];
  });
  const frozen = lines.flatMap((line) => {
    const match = /freeze_duration: ([\d.]+)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
  // freezedetect reports a start only after the minimum duration; a start with no end ran to EOF.
  const starts = lines.filter((line) => /freeze_start: /.test(line)).length;
  for (let i = frozen.length; i < starts; i++) frozen.push(Number.POSITIVE_INFINITY);
  return { black, frozen };
}

/** Silent stretches of the audio (≥ `minSeconds` below `thresholdDb`), from silencedetect. */
export async function silences(
  ffmpeg: string,
  file: string,
  thresholdDb = -50,
  minSeconds = 0.15,
): Promise<{ start: number; end: number }[]> {
  const lines = await ffmpegLines(
    ffmpeg,
    analysisArgs(file, "0:a:0", "-af", `silencedetect=n=${thresholdDb}dB:d=${minSeconds}`),
  );
  const result: { start: number; end: number }[] = [];
  let start: number | null = null;
  for (const line of lines) {
    const s = /silence_start: (-?[\d.]+)/.exec(line);
    if (s) start = Number(s[1]);
    const e = /silence_end: ([\d.]+)/.exec(line);
    if (e && start !== null) {
      result.push({ start, end: Number(e[1]) });
      start = null;
    }
  }
  if (start !== null) result.push({ start, end: Number.POSITIVE_INFINITY });
  return result;
}
