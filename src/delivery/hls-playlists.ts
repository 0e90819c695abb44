/**
 * HLS playlists written per request from the stored segment index (pure). Each rendition is one
 * fMP4 in one large object: the media playlist's `EXT-X-MAP` and `EXT-X-BYTERANGE`s address it
 * through the ordinary media route, which serves the ranges — no per-segment rows or files.
 */
import { stringify, types } from "hls-parser";
import type { RenditionSegmentsColumns } from "../db/entities/video-rendition.entity.js";

export const HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl";

/** `master.m3u8` or a rendition's `<label>.m3u8`. */
export const PLAYLIST_FILE = /^(master|\d{3,4}p)\.m3u8$/;

export interface PlaylistRendition {
  label: string;
  width: number;
  height: number;
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  segments: RenditionSegmentsColumns;
}

/** The variants, best first (players start with the first listed, then adapt). */
export function masterPlaylist(
  renditions: readonly PlaylistRendition[],
  variantUri: (label: string) => string,
): string {
  const variants = [...renditions]
    .sort((a, b) => b.bandwidth - a.bandwidth)
    .map(
      (rendition) =>
        new types.Variant({
          uri: variantUri(rendition.label),
          bandwidth: rendition.bandwidth,
          averageBandwidth: rendition.averageBandwidth,
          codecs: rendition.codecs,
          resolution: { width: rendition.width, height: rendition.height },
        }),
    );
  return stringify(new types.MasterPlaylist({ version: 7, independentSegments: true, variants }));
}

/** A VOD media playlist whose segments are byte ranges of one file at `fileUri`. */
export function mediaPlaylist(rendition: PlaylistRendition, fileUri: string): string {
  const { init, parts } = rendition.segments;
  const map = new types.MediaInitializationSection({
    uri: fileUri,
    byterange: { offset: init[0], length: init[1] },
  });
  const segments = parts.map(
    ([duration, offset, length], index) =>
      new types.Segment({
        uri: fileUri,
        duration,
        byterange: { offset, length },
        mediaSequenceNumber: index,
        discontinuitySequence: 0,
        map,
      }),
  );
  return stringify(
    new types.MediaPlaylist({
      version: 7,
      independentSegments: true,
      targetDuration: Math.ceil(Math.max(...parts.map(([duration]) => duration))),
      playlistType: "VOD",
      endlist: true,
      segments,
    }),
  );
}
