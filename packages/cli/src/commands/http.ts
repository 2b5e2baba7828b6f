// Small HTTP helper for commands that read an admin or debug endpoint.

/** GETs a URL and parses JSON, with an error that names the URL. */
export async function getJson(url: string, timeoutMs = 5000): Promise<unknown> {
  const text = await getText(url, timeoutMs);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${url} did not return JSON`);
  }
}

export async function getText(url: string, timeoutMs = 5000): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(
      `cannot reach ${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
    );
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status} ${res.statusText}`);
  return res.text();
}

/** Accepts "host:port" or a URL and returns a base URL without a trailing slash. */
export function baseUrl(addr: string): string {
  const url = /^https?:\/\//.test(addr) ? addr : `http://${addr}`;
  return url.replace(/\/+$/, '');
}
