import { useRef } from "react";
import { onPageOrigin } from "./same-origin.js";

/**
 * Signed media URLs carry an expiry to the second, so every fetch of a query returns new ones
 * for the same bytes. Keeping the first URL while the media (the path) stays the same stops
 * thumbnails from reloading and a playing <video> from restarting on each refresh; a new media
 * object (a re-rendered video) has a new path and replaces it.
 */
export function useStableMediaUrl(url: string | null | undefined): string | undefined {
  const kept = useRef<string | undefined>(undefined);
  const next = onPageOrigin(url);
  if (!next) {
    kept.current = undefined;
  } else if (!kept.current || pathOf(kept.current) !== pathOf(next)) {
    kept.current = next;
  }
  return kept.current;
}

function pathOf(url: string): string {
  return new URL(url, window.location.href).pathname;
}
