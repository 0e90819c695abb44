import type { ProxyOptions } from "vite";

/**
 * Settings both console builds share. In development (`npm run web:dev`) Vite serves the app
 * and forwards the API paths, WebSocket included, to a running propvid (PROPVID_API_URL,
 * default http://127.0.0.1:4000), so the browser sees one origin as in production.
 */
export function apiProxy(): Record<string, ProxyOptions> {
  const target = process.env.PROPVID_API_URL ?? "http://127.0.0.1:4000";
  return {
    "/graphql": { target, ws: true, changeOrigin: true },
    "/v1": { target, changeOrigin: true },
    "/healthz": { target },
    "/readyz": { target },
  };
}

/** Browsers of the last few years; modern output is smaller (no down-levelled classes or async). */
export const BUILD_TARGET = "es2022";
