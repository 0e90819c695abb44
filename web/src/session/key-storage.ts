/**
 * Where the API key lives in the browser: session storage (gone when the tab closes), never a
 * URL, a cookie or a log line. One key per tab.
 */
const STORAGE_KEY = "propvid.apiKey";

export function readStoredKey(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the user signs in for this page view only
  }
}

export function storeKey(key: string): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // see readStoredKey
  }
}

export function forgetKey(): void {
  try {
    window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // see readStoredKey
  }
}
