/**
 * Turns what FFmpeg's HLS muxer wrote (a media playlist of byte ranges into one fMP4) into the
 * rendition's stored segment index, and reads the RFC 6381 codec string from the init section.
 * Pure: the caller reads the files.
 */
import { parse, types } from "hls-parser";
import type { RenditionSegmentsColumns } from "../db/entities/video-rendition.entity.js";

export interface RenditionIndex {
  segments: RenditionSegmentsColumns;
  durationSeconds: number;
  /** Peak bits per second over any segment. */
  bandwidth: number;
  /** Bits per second over the whole rendition. */
  averageBandwidth: number;
}

export function indexFromPlaylist(playlistText: string, byteSize: number): RenditionIndex {
  const playlist = parse(playlistText);
  if (!(playlist instanceof types.MediaPlaylist)) throw new Error("expected a media playlist");
  const first = playlist.segments[0];
  const map = first?.map?.byterange;
  if (!first || !map) throw new Error("the playlist has no EXT-X-MAP byte range");
  const parts = playlist.segments.map((segment): [number, number, number] => {
    if (!segment.byterange) throw new Error("a segment has no EXT-X-BYTERANGE");
    return [segment.duration, segment.byterange.offset, segment.byterange.length];
  });
  const last = parts[parts.length - 1]!;
  if (last[1] + last[2] > byteSize) throw new Error("the playlist addresses bytes past the file");
  const durationSeconds = parts.reduce((sum, [duration]) => sum + duration, 0);
  const bandwidth = Math.max(...parts.map(([duration, , length]) => (length * 8) / Math.max(duration, 0.1)));
  return {
    segments: { init: [map.offset, map.length], parts },
    durationSeconds,
    bandwidth: Math.ceil(bandwidth),
    averageBandwidth: Math.ceil((byteSize * 8) / Math.max(durationSeconds, 0.1)),
  };
}

/**
 * `avc1.PPCCLL` from the avcC box (profile, constraint flags, level: the three bytes after its
 * version byte), plus `mp4a.40.2` when there is an audio track (the house audio is AAC-LC).
 */
export function codecsFromInit(init: Buffer): string {
  const at = init.indexOf("avcC");
  if (at < 0 || at + 8 > init.length) throw new Error("no avcC box in the init section");
  const hex = (byte: number) => byte.toString(16).padStart(2, "0");
  const video = `avc1.${hex(init[at + 5]!)}${hex(init[at + 6]!)}${hex(init[at + 7]!)}`;
  return init.includes("mp4a") ? `${video},mp4a.40.2` : video;
}
