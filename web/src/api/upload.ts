import type { ApiProblem } from "./error-messages.js";

export interface UploadOutcome {
  ok: boolean;
  problem?: ApiProblem;
}

/**
 * PUTs a file's bytes to its signed upload URL with XMLHttpRequest, which (unlike fetch) reports
 * upload progress. The service checks the bytes at once: 200 = READY, 422 = rejected with the
 * reason, 413/415 = too large / not a photo.
 */
export function putFile(
  url: string,
  file: Blob,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve({ ok: true });
        return;
      }
      const body = request.response as { error?: { code?: string; message?: string } } | null;
      resolve({
        ok: false,
        problem: { code: body?.error?.code, message: body?.error?.message, httpStatus: request.status },
      });
    };
    request.onerror = () => resolve({ ok: false, problem: { httpStatus: 0 } });
    request.onabort = () => resolve({ ok: false, problem: { message: "Upload cancelled" } });
    signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(file);
  });
}
