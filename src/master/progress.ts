/**
 * Rate and ETA of a long run, from how many jobs had ended at each hello round. A sliding window
 * (not the whole run) so the rate follows what the mesh does now: workers join and leave, and a
 * master restarted mid-run must not count the jobs it finished yesterday as today's speed.
 */
export interface Progress {
  ended: number;
  total: number;
  /** Jobs ended per minute over the window; null until two samples span some time. */
  perMinute: number | null;
  /** Seconds until all have ended at that rate; 0 when done, null when the rate is 0 or unknown. */
  etaS: number | null;
}

export class ProgressMeter {
  private samples: { t: number; ended: number }[] = [];

  constructor(private readonly windowMs = 10 * 60_000) {}

  sample(now: number, ended: number, total: number): Progress {
    // A count that went down (jobs withdrawn, journal replaced) makes old samples meaningless.
    if (this.samples.some((s) => s.ended > ended)) this.samples = [];
    this.samples.push({ t: now, ended });
    while (this.samples.length > 2 && this.samples[1]!.t <= now - this.windowMs) {
      this.samples.shift();
    }
    const first = this.samples[0]!;
    const spanMs = now - first.t;
    const perMinute = spanMs > 0 ? ((ended - first.ended) * 60_000) / spanMs : null;
    const remaining = Math.max(0, total - ended);
    let etaS: number | null = null;
    if (remaining === 0) etaS = 0;
    else if (perMinute) etaS = Math.round((remaining / perMinute) * 60);
    return {
      ended,
      total,
      perMinute: perMinute === null ? null : Math.round(perMinute * 100) / 100,
      etaS,
    };
  }
}
