/**
 * POSTing a JSON body to a webhook URL that is a secret (Discord and Slack webhook URLs carry
 * their token in the path). Errors never contain the URL: only the status or the kind of failure.
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

export async function postJson(url: string, body: unknown, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'slipway' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    throw new DeliveryError(describeFailure(err, timeoutMs, url));
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    throw new DeliveryError(`HTTP ${response.status}${text ? `: ${redact(text.slice(0, 200), url)}` : ''}`);
  }
}

function describeFailure(err: unknown, timeoutMs: number, url: string): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs}ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return redact(cause ? `${message}: ${cause}` : message, url);
}

/** Removes the URL and its path (the secret part) from a text that may echo them. */
export function redact(text: string, url: string): string {
  let out = text.split(url).join('<webhook url>');
  try {
    const { pathname, search } = new URL(url);
    for (const secret of [pathname + search, pathname]) if (secret.length > 1) out = out.split(secret).join('/<redacted>');
  } catch {
    /* not a URL: nothing more to take out */
  }
  return out;
}
