import { isControlCharacter } from "./text-layout.js";

/**
 * A WebVTT captions track of what the overlays say, with their times, so players can show it
 * (and screen readers read it) beside the video.
 */

export interface CaptionCue {
  start: number;
  end: number;
  /** One or more lines of text. */
  lines: readonly string[];
}

/** 83.5 → "00:01:23.500" (WebVTT needs hours when they are used; always writing them is valid). */
export function vttTimestamp(secondsValue: number): string {
  if (!Number.isFinite(secondsValue) || secondsValue < 0)
    throw new Error(`invalid cue time: ${secondsValue}`);
  const millis = Math.round(secondsValue * 1000);
  const hours = Math.floor(millis / 3_600_000);
  const minutes = Math.floor((millis % 3_600_000) / 60_000);
  const secs = Math.floor((millis % 60_000) / 1000);
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  return `${pad(hours)}:${pad(minutes)}:${pad(secs)}.${pad(millis % 1000, 3)}`;
}

/**
 * Cue text escaped for WebVTT: `&`, `<` and `>` as entities (so no "-->" can end the timing
 * line early), no blank lines (a blank line ends a cue), control characters removed.
 */
export function escapeCueText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) =>
      Array.from(line, (char) => (isControlCharacter(char) ? "" : char))
        .join("")
        .replaceAll("&", "&amp;")
        .replaceAll("<", "&lt;")
        .replaceAll(">", "&gt;")
        .trim(),
    )
    .filter(Boolean)
    .join("\n");
}

/** The WebVTT file for the cues (sorted by start; empty cues skipped). */
export function buildWebVtt(cues: readonly CaptionCue[]): string {
  const blocks = [...cues]
    .filter((cue) => cue.end > cue.start)
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map((cue) => ({ cue, text: cue.lines.map(escapeCueText).filter(Boolean).join("\n") }))
    .filter(({ text }) => text.length > 0)
    .map(
      ({ cue, text }, index) =>
        `${index + 1}\n${vttTimestamp(cue.start)} --> ${vttTimestamp(cue.end)}\n${text}`,
    );
  return `WEBVTT\n\n${blocks.join("\n\n")}${blocks.length ? "\n" : ""}`;
}
