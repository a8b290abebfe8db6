export interface JsonAnswer {
  status: number;
  /** Parsed JSON, else the text (downloads, JSON lines, signatures), null for an empty body. */
  body: unknown;
  headers: Headers;
}

/** One API request with an optional bearer key and JSON body; redirects are returned, not followed. */
export async function jsonCall(base: string, method: string, route: string, key?: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const response = await fetch(`${base}${route}`, {
    method,
    redirect: 'manual',
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
