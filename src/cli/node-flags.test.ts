import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingNodeFlags, WORKER_NODE_FLAGS } from './node-flags.js';

const ROOT = new URL('../../', import.meta.url);

describe('missingNodeFlags', () => {
  it("lists the worker's options node was started without, for the worker only", () => {
    expect(missingNodeFlags(['worker', '--broker-url', 'mqtt://x'], [])).toEqual(WORKER_NODE_FLAGS);
    expect(missingNodeFlags(['worker'], [...WORKER_NODE_FLAGS, '--import', 'tsx'])).toEqual([]);
    expect(missingNodeFlags(['master', '--bind', '0.0.0.0'], [])).toEqual([]);
    expect(missingNodeFlags(['--version'], [])).toEqual([]);
    expect(missingNodeFlags(['help', 'worker'], [])).toEqual([]);
  });

  it('leaves an option that was given a value of its own as it was given', () => {
    const [first, ...rest] = WORKER_NODE_FLAGS;
    const name = (first as string).split('=')[0] as string;
    expect(missingNodeFlags(['worker'], [`${name}=64`])).toEqual(rest);
  });

  it('relaunches nothing under an inspector, so the debugger stays on the worker', () => {
    for (const flag of [
      '--inspect',
      '--inspect=9229',
      '--inspect-brk=127.0.0.1:9230',
      '--inspect-wait',
    ]) {
      expect(missingNodeFlags(['worker'], [flag])).toEqual([]);
    }
    expect(missingNodeFlags(['worker'], ['--inspect-port=9230'])).toEqual(WORKER_NODE_FLAGS);
  });
});

describe('WORKER_NODE_FLAGS', () => {
  it('are accepted by this node and keep its young generation at 2 MB semi-spaces', () => {
    // Short-lived garbage that grows the young generation to its largest under V8's defaults.
    const script = `
      let keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 5e4) keep = []; }
      const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      console.log(s.space_size);`;
    const newSpace = (flags: readonly string[]) => {
      const r = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return Number(r.stdout.trim()) / 2 ** 20;
    };
    expect(newSpace([])).toBeGreaterThan(4);
    expect(newSpace(WORKER_NODE_FLAGS)).toBeLessThanOrEqual(4);
  });

  it("are on node's command line in the compose worker, in front of the image's entrypoint", () => {
    const compose = parse(readFileSync(new URL('docker-compose.yml', ROOT), 'utf8')) as {
      services: Record<string, { entrypoint?: string[] }>;
    };
    const dockerfile = readFileSync(new URL('Dockerfile', ROOT), 'utf8');
    const image = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    const [node, ...script] = image;
    expect(node).toBe('node');
    expect(compose.services.worker?.entrypoint).toEqual([node, ...WORKER_NODE_FLAGS, ...script]);
    expect(compose.services.master?.entrypoint).toBeUndefined();
  });
});
