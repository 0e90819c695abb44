/**
 * The adaptive-streaming ladder and the one FFmpeg run that makes it (pure argv builder).
 *
 * Every rung is ONE fragmented MP4 written by FFmpeg's HLS muxer in `single_file` mode: it also
 * writes a media playlist whose `EXT-X-BYTERANGE`s say where each segment sits, which we keep
 * as the rendition's segment index. The source (the 1080p assembly) is remuxed into an fMP4 copy
 * by stream copy — no re-encode, a second or two — rather than making assembly itself write
 * fMP4: the progressive MP4 with its moov up front stays what downloads, social previews and
 * `og:video` get (fMP4 needs a sidx/mfra to seek without reading every moof), see docs/DELIVERY.md.
 *
 * Ladder (H.264, 2 s keyframes like the house encoding, audio copied so every rung has the same
 * AAC track and exactly the source's duration):
 * - source (1080 lines for 16:9): stream copy, the house CRF 20 encoding (~5–8 Mb/s on our renders);
 * - 720p: 3.0 Mb/s average, 3.3 Mb/s peak (VBV 6 Mb), High 3.1;
 * - 480p: 1.2 Mb/s average, 1.4 Mb/s peak (VBV 2.4 Mb), Main 3.1 — what a phone on a weak
 *   connection can hold.
 * Sizes are by the short side, so portrait and square videos get the same ladder.
 */
import { args, fileInput, fileUrl, head } from "../media/ffmpeg-commands.js";

export interface RenditionRung {
  label: string;
  /** Lines on the short side. */
  shortSide: number;
  videoKbps: number;
  maxKbps: number;
  bufferKbps: number;
  profile: "high" | "main";
  level: string;
}

export const RENDITION_LADDER: readonly RenditionRung[] = Object.freeze([
  {
    label: "720p",
    shortSide: 720,
    videoKbps: 3000,
    maxKbps: 3300,
    bufferKbps: 6000,
    profile: "high",
    level: "3.1",
  },
  {
    label: "480p",
    shortSide: 480,
    videoKbps: 1200,
    maxKbps: 1400,
    bufferKbps: 2400,
    profile: "main",
    level: "3.1",
  },
]);

/** Target segment length; segments cut on the 2 s keyframes, so they come out 4 s. */
export const SEGMENT_SECONDS = 4;

export interface PlannedRendition {
  label: string;
  width: number;
  height: number;
  /** null: the source's stream copy. */
  rung: RenditionRung | null;
}

const evenRound = (value: number): number => Math.max(2, Math.round(value / 2) * 2);

/** The rungs for a source of this size: its own copy, then every rung strictly smaller. */
export function planRenditions(width: number, height: number): PlannedRendition[] {
  const short = Math.min(width, height);
  const planned: PlannedRendition[] = [{ label: `${short}p`, width, height, rung: null }];
  for (const rung of RENDITION_LADDER) {
    if (rung.shortSide >= short) continue;
    const scale = rung.shortSide / short;
    planned.push({
      label: rung.label,
      width: width <= height ? rung.shortSide : evenRound(width * scale),
      height: width <= height ? evenRound(height * scale) : rung.shortSide,
      rung,
    });
  }
  return planned;
}

/** Where a rendition's files are in the work directory. */
export const renditionFiles = (dir: string, label: string) => ({
  video: `${dir}/${label}.mp4`,
  playlist: `${dir}/${label}.m3u8`,
});

function hlsOutput(dir: string, label: string): string[] {
  const files = renditionFiles(dir, label);
  // Segment file by plain path: the HLS muxer opens it itself, relative to nothing.
  return args`-f hls -hls_time ${SEGMENT_SECONDS} -hls_playlist_type vod -hls_segment_type fmp4
    -hls_flags single_file -hls_segment_filename ${files.video} ${fileUrl(files.playlist)}`;
}

/** One decode, one output per rendition (the source's by stream copy). */
export function renditionsArgs(options: {
  input: string;
  dir: string;
  planned: readonly PlannedRendition[];
  /** The source's frame rate: keyframes every 2 s, like the house encoding, so segments align. */
  fps: number;
}): string[] {
  const gop = Math.max(1, Math.round(options.fps * 2));
  const scaled = options.planned.filter((plan) => plan.rung !== null);
  const split =
    scaled.length === 0
      ? []
      : args`-filter_complex ${[
          `[0:v:0]split=${scaled.length}${scaled.map((_, i) => `[s${i}]`).join("")}`,
          ...scaled.map((plan, i) => `[s${i}]scale=${plan.width}:${plan.height}:flags=bicubic[v${i}]`),
        ].join(";")}`;
  const outputs = options.planned.flatMap((plan) => {
    const rung = plan.rung;
    if (!rung) return [...args`-map 0:v:0 -map 0:a:0? -c copy`, ...hlsOutput(options.dir, plan.label)];
    const index = scaled.indexOf(plan);
    return [
      ...args`-map ${`[v${index}]`} -map 0:a:0? -c:v libx264 -preset veryfast -profile:v ${rung.profile}
        -level:v ${rung.level} -pix_fmt yuv420p -b:v ${`${rung.videoKbps}k`} -maxrate ${`${rung.maxKbps}k`}
        -bufsize ${`${rung.bufferKbps}k`} -g ${gop} -keyint_min ${gop} -sc_threshold 0 -c:a copy`,
      ...hlsOutput(options.dir, plan.label),
    ];
  });
  return [...head(), ...fileInput(options.input), ...split, ...outputs];
}
