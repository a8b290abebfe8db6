import { rawHttpGet, RawHttpUnsupported } from '../../registry-client/raw-http-get';
import { readerChunks } from '../../registry-client/resumable-download';

/** One ranged GET's answer, from the plain-socket reader (http) or fetch (https, redirects, chunked). */
export interface RangeResponse {
  status: number;
  headers: Headers;
  chunks: AsyncIterable<Uint8Array>;
  cancel(): void;
}

export interface RangeRequest {
  url: string;
  /** First byte wanted. */
  start: number;
  /** One past the last byte wanted. */
  end: number;
  /** The strong ETag this source gave before: a changed object answers 200 instead of being spliced. */
  ifRange: string | null;
  signal: AbortSignal;
  headers?: Record<string, string>;
}

/**
 * `GET` with `Range: bytes=start-(end-1)`. The plain-socket reader serves `http:` (it hands over
 * 2 MiB chunks, half the receive cost of fetch's small ones); anything it declines goes through fetch.
 */
export async function requestRange(request: RangeRequest, fetchImpl: typeof fetch = globalThis.fetch): Promise<RangeResponse> {
  const headers: Record<string, string> = { ...request.headers, 'Accept-Encoding': 'identity', Range: `bytes=${request.start}-${request.end - 1}` };
  if (request.ifRange !== null) headers['If-Range'] = request.ifRange;
  const url = new URL(request.url);
  if (url.protocol === 'http:') {
    try {
      const raw = await rawHttpGet(url, headers, request.signal);
      if (raw.status < 300 || raw.status >= 400) return { status: raw.status, headers: raw.headers, chunks: raw.body, cancel: raw.cancel };
      raw.cancel(); // a redirect (a presigned URL, a CDN) is fetch's to follow
    } catch (error) {
      if (!(error instanceof RawHttpUnsupported)) throw error;
    }
  }
  const response = await fetchImpl(request.url, { headers, signal: request.signal, redirect: 'follow' });
  return {
    status: response.status,
    headers: response.headers,
    chunks: readerChunks(response.body),
    cancel: () => void response.body?.cancel().catch(() => undefined),
  };
}

/** `bytes a-b/total` → numbers; null when absent or malformed. */
export function parseContentRange(value: string | null): { first: number; last: number; total: number } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value ?? '');
  if (!match) return null;
  return { first: Number(match[1]), last: Number(match[2]), total: Number(match[3]) };
}

/** A strong ETag, or null (weak tags do not name exact bytes, so they cannot guard a splice). */
export function strongEtag(headers: Headers): string | null {
  const etag = headers.get('etag');
  return etag === null || etag.startsWith('W/') ? null : etag;
}
