import type { Clock } from '../clock.ts';
import { describeUrl, requestTarget } from './webhook-url.ts';

/** How one POST ended, already sorted into what the queue does next. */
export type PostOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth trying again: network error, timeout, 408, 429, 5xx. */
  | { kind: 'retry'; status: number | null; reason: string; retryAfterMs: number | null }
  /** Never taken: any other status (4xx; 3xx too, since redirects are not followed). */
  | { kind: 'refused'; status: number; reason: string }
  /** The queue is stopping; nothing is known about the receiver. */
  | { kind: 'aborted' };

export interface PostRequest {
  url: string;
  /** Sent as `x-scanmesh-delivery` so receivers can drop the duplicates at-least-once brings. */
  id: string;
  payload: string;
  timeoutMs: number;
  clock: Clock;
  fetch: typeof fetch;
  /** Aborted by `WebhookQueue.stop()`. */
  stop: AbortSignal;
}

/** POST one notification to one URL. Never throws: every failure becomes an outcome. */
export async function postOnce(r: PostRequest): Promise<PostOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  // The timeout runs on the injected clock like every other timer of the master.
  const timer = r.clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, r.timeoutMs);
  const onStop = (): void => controller.abort();
  r.stop.addEventListener('abort', onStop, { once: true });
  try {
    const target = requestTarget(r.url);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-scanmesh-delivery': r.id,
      'user-agent': 'scanmesh-webhook',
    };
    if (target.authorization) headers.authorization = target.authorization;
    const res = await r.fetch(target.href, {
      method: 'POST',
      headers,
      body: r.payload,
      // A 301/302 would turn the POST into a bodiless GET and look like success.
      redirect: 'manual',
      signal: controller.signal,
    });
    // The status is the answer; the body is not read, so a receiver cannot keep us waiting on it.
    await res.body?.cancel().catch(() => undefined);
    return classify(res.status, res.headers.get('retry-after'), r.clock.now());
  } catch (err) {
    if (r.stop.aborted) return { kind: 'aborted' };
    const reason = timedOut ? `no answer within ${r.timeoutMs} ms` : describeError(err, r.url);
    return { kind: 'retry', status: null, reason, retryAfterMs: null };
  } finally {
    r.clock.clear(timer);
    r.stop.removeEventListener('abort', onStop);
  }
}

export function classify(status: number, retryAfter: string | null, now: number): PostOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return { kind: 'retry', status, reason: `HTTP ${status}`, retryAfterMs };
  }
  const reason =
    status >= 300 && status < 400
      ? `HTTP ${status}: redirects are not followed, configure the final URL`
      : `HTTP ${status}`;
  return { kind: 'refused', status, reason };
}

/** `Retry-After` as delay-seconds or an HTTP-date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A one-line reason for a failed request, with the URL (path and query may be secret) removed. */
function describeError(err: unknown, url: string): string {
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
  const text = typeof cause?.message === 'string' ? cause.message : String(err);
  const shown = describeUrl(url).url;
  let out = text.split(url).join(shown);
  try {
    out = out.split(requestTarget(url).href).join(shown);
  } catch {
    // an unparseable URL was already replaced verbatim above
  }
  return out;
}
