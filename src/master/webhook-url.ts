import { createHash } from 'node:crypto';

/**
 * What a log line may say about a webhook URL: its origin and a short fingerprint, nothing else.
 * Userinfo is a secret, and so, for many receivers (Slack, Discord, Teams), are the path and the
 * query: the token *is* the URL. `url_ref` (the first 8 hex digits of the full URL's SHA-256) lets
 * a person tell two webhooks on one host apart and match them with their configuration.
 */
export function describeUrl(url: string): { url: string; url_ref: string } {
  let origin = 'invalid-url';
  try {
    origin = new URL(url).origin;
  } catch {
    // keep the placeholder: an unparseable string may itself be a secret
  }
  return { url: origin, url_ref: urlRef(url) };
}

export function urlRef(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 8);
}

/** A usable webhook URL: absolute, http or https. */
export function isWebhookUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * What fetch is given. WHATWG fetch refuses a URL with userinfo (and its error message would quote
 * the password), so `http://user:pass@host/` becomes the bare URL plus a Basic authorization.
 */
export function requestTarget(url: string): { href: string; authorization: string | null } {
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { href: u.href, authorization: null };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const token = Buffer.from(`${user}:${password}`).toString('base64');
  return { href: u.href, authorization: `Basic ${token}` };
}
