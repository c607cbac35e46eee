import { createHash } from 'node:crypto';
import { expandTarget, expectedOpenPorts, parsePorts } from '../harness/fake-nmap.ts';
import type { Rng } from './rng.ts';

/** One commands.txt line and what the mesh must make of it. */
export interface JobSpec {
  /** The id the master derives: `j-<sha256 of the args joined by \0, 12 hex>-<occurrence>`. */
  id: string;
  line: string;
  /** Why it must fail on every attempt, or null for a line that must complete. */
  poison: string | null;
  /** Host → the open ports its scan must report. Empty for poison lines. */
  expected: Map<string, number[]>;
}

/**
 * Derived here from the README's definition rather than by calling the master's code, so that a
 * master deriving ids differently shows up as lost jobs.
 */
function withIds(
  lines: { line: string; poison: string | null; expected: Map<string, number[]> }[],
) {
  const seen = new Map<string, number>();
  return lines.map((l): JobSpec => {
    const hash = createHash('sha256')
      .update(l.line.split(/\s+/).join('\0'))
      .digest('hex')
      .slice(0, 12);
    const n = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, n);
    return { id: `j-${hash}-${n}`, ...l };
  });
}

const FAKE_PORT_LISTS = ['1-20', '20-45', '22,80,443,8080', '1000-1010', '5432,6379,27017'];
const FAKE_POISONS = ['crash', 'segv', 'hang', 'badxml'];

/** Spread `poison` positions over `count` lines, so that poison runs early, midway and late. */
function poisonSlots(count: number, poison: number, rng: Rng): Set<number> {
  const slots = new Set<number>();
  while (slots.size < Math.min(poison, count)) slots.add(rng.int(count));
  return slots;
}

/**
 * Lines for the fake nmap: distinct loopback targets (every tenth a range of three hosts), a few
 * port lists, now and then the same line twice (it must run twice), and poison targets in
 * 127.66.<kind>.0/24 that make the fake crash, SIGSEGV, hang or print broken XML.
 */
export function fakeJobs(count: number, poison: number, rng: Rng): JobSpec[] {
  const slots = poisonSlots(count, poison, rng);
  const lines: { line: string; poison: string | null; expected: Map<string, number[]> }[] = [];
  let poisoned = 0;
  for (let i = 0; i < count; i++) {
    const ports = rng.pick(FAKE_PORT_LISTS);
    if (slots.has(i)) {
      const kind = poisoned % FAKE_POISONS.length;
      lines.push({
        line: `-sT -Pn -p ${ports} 127.66.${kind}.${1 + poisoned++}`,
        poison: FAKE_POISONS[kind] as string,
        expected: new Map(),
      });
      continue;
    }
    const previous = lines[lines.length - 1];
    if (i % 500 === 499 && previous && !previous.poison) {
      lines.push({ ...previous }); // "a line added twice runs twice"
      continue;
    }
    const target =
      i % 10 === 9
        ? `127.2.${(i >> 6) & 255}.${(i & 63) * 4 + 1}-${(i & 63) * 4 + 3}`
        : `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const list = parsePorts(ports);
    const expected = new Map(expandTarget(target).map((h) => [h, expectedOpenPorts(h, list)]));
    lines.push({ line: `-sT -Pn -p ${ports} ${target}`, poison: null, expected });
  }
  return withIds(lines);
}

/**
 * Lines for real nmap against 127.0.0.1, where the runner holds TCP listeners on `open` and nothing
 * listens on `closed`: each line probes a different subset of the listeners plus one closed port,
 * slowed by --scan-delay so that a worker kill can land mid-scan. A poison line probes 30 ports
 * one second apart, which no job timeout under 30 s lets finish.
 */
export function realJobs(
  count: number,
  poison: number,
  open: number[],
  closed: number[],
): JobSpec[] {
  const subsets = 2 ** open.length - 1;
  const lines: { line: string; poison: string | null; expected: Map<string, number[]> }[] = [];
  for (let k = 0; k < poison; k++) {
    const from = 1 + k * 30;
    lines.push({
      line: `-sT -Pn --scan-delay 1s --max-retries 0 -p ${from}-${from + 29} 127.0.0.1`,
      poison: 'timeout',
      expected: new Map(),
    });
  }
  for (let k = 0; lines.length < count; k++) {
    if (k >= subsets * 3) throw new Error(`at most ${subsets * 3 + poison} real-nmap jobs`);
    const mask = (k % subsets) + 1;
    const probed = open.filter((_, bit) => mask & (1 << bit)).sort((a, b) => a - b);
    const ports = [...probed, closed[k % closed.length] as number].sort((a, b) => a - b);
    lines.push({
      line: `-sT -Pn --scan-delay ${200 + 100 * Math.floor(k / subsets)}ms --max-retries 0 -p ${ports.join(',')} 127.0.0.1`,
      poison: null,
      expected: new Map([['127.0.0.1', probed]]),
    });
  }
  return withIds(lines);
}

export function commandsText(jobs: readonly JobSpec[]): string {
  return `# scanmesh chaos run: ${jobs.length} lines\n${jobs.map((j) => j.line).join('\n')}\n`;
}
