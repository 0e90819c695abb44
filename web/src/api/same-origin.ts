/**
 * The console always talks to the server that served it. Signed URLs are absolute, built from
 * the server's PUBLIC_BASE_URL, which can name another host than the one in the address bar
 * (a proxy, `localhost` vs `127.0.0.1`, the Vite dev server): a PUT there would be a
 * cross-origin request. Service paths (`/v1/…`) are therefore fetched from this page's origin.
 */
export function onPageOrigin(url: string): string;
export function onPageOrigin(url: string | null | undefined): string | undefined;
export function onPageOrigin(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const parsed = new URL(url, window.location.href);
  if (parsed.origin === window.location.origin || !parsed.pathname.startsWith("/v1/")) return parsed.href;
  return `${parsed.pathname}${parsed.search}`;
}

/** The same media URL with `download=1`: the server answers with Content-Disposition attachment. */
export function downloadUrl(url: string): string {
  const parsed = new URL(onPageOrigin(url), window.location.href);
  parsed.searchParams.set("download", "1");
  return parsed.origin === window.location.origin ? `${parsed.pathname}${parsed.search}` : parsed.href;
}
