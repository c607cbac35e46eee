import { describe, expect, it } from 'vitest';
import { createTopics } from '../protocol/topics.ts';
import { canPublish, canSubscribe, canWill, clientIdAllowed, type Principal } from './acl.ts';

const t = createTopics('scanmesh/v1/');
const A: Principal = { kind: 'user', role: 'worker', name: 'pi-a' };
const master: Principal = { kind: 'user', role: 'master', name: 'm1' };
const anon: Principal = { kind: 'anonymous' };
const pub = (p: Principal, topic: string, retain = false) => canPublish(p, { topic, retain }, t);

describe('worker ACL', () => {
  it('publishes only its own hello and data', () => {
    expect(pub(A, 'scanmesh/v1/workers/pi-a/hello')).toBe(true);
    expect(pub(A, 'scanmesh/v1/workers/pi-a/data')).toBe(true);
    for (const topic of [
      'scanmesh/v1/workers/pi-a/bye', // only as its will
      'scanmesh/v1/workers/pi-a/jobs', // only the master sends jobs
      'scanmesh/v1/workers/pi-a/ack',
      'scanmesh/v1/workers/pi-b/data',
      'scanmesh/v1/workers/pi-b/hello',
      'scanmesh/v1/master/hello',
      'scanmesh/v2/workers/pi-a/data',
      'other/workers/pi-a/data',
      '$SYS/broker/x',
    ]) {
      expect(pub(A, topic), topic).toBe(false);
    }
    expect(pub(A, 'scanmesh/v1/workers/pi-a/data', true)).toBe(false);
    // Only the master speaks for the master, retained or not.
    expect(pub(A, 'scanmesh/v1/master/status')).toBe(false);
    expect(pub(A, 'scanmesh/v1/master/status', true)).toBe(false);
  });

  it('may leave a will only on its own bye, not retained', () => {
    const will = (topic: string, retain = false) => canWill(A, { topic, retain }, t);
    expect(will('scanmesh/v1/workers/pi-a/bye')).toBe(true);
    expect(will('scanmesh/v1/workers/pi-a/bye', true)).toBe(false);
    expect(will('scanmesh/v1/workers/pi-b/bye')).toBe(false);
    expect(will('scanmesh/v1/workers/pi-a/data')).toBe(false);
  });

  it('subscribes to exactly S_HELLO and its own jobs and acks', () => {
    expect(canSubscribe(A, 'scanmesh/v1/master/hello', t)).toBe(true);
    expect(canSubscribe(A, 'scanmesh/v1/workers/pi-a/jobs', t)).toBe(true);
    expect(canSubscribe(A, 'scanmesh/v1/workers/pi-a/ack', t)).toBe(true);
    for (const filter of [
      'scanmesh/v1/workers/pi-b/jobs',
      'scanmesh/v1/workers/+/jobs',
      'scanmesh/v1/workers/pi-a/+',
      'scanmesh/v1/workers/pi-a/#',
      'scanmesh/v1/#',
      '#',
      'scanmesh/v1/workers/pi-a/data',
      'scanmesh/v1/master/+',
      'scanmesh/v1/master/#',
    ]) {
      expect(canSubscribe(A, filter, t), filter).toBe(false);
    }
  });
});

describe('master ACL', () => {
  it('publishes S_HELLO and jobs/acks to any concrete worker', () => {
    expect(pub(master, 'scanmesh/v1/master/hello')).toBe(true);
    expect(pub(master, 'scanmesh/v1/workers/pi-a/jobs')).toBe(true);
    expect(pub(master, 'scanmesh/v1/workers/pi-b/ack')).toBe(true);
    for (const topic of [
      'scanmesh/v1/workers/pi-a/data',
      'scanmesh/v1/workers/pi-a/hello',
      'scanmesh/v1/workers/pi-a/bye',
      'scanmesh/v1/workers/bad id/jobs',
      'scanmesh/v1/workers/pi-a/jobs/extra',
      'scanmesh/v1/other',
    ]) {
      expect(pub(master, topic), topic).toBe(false);
    }
    expect(pub(master, 'scanmesh/v1/workers/pi-a/jobs', true)).toBe(false);
  });

  it('retains exactly one topic: its status; nothing else, not even S_HELLO', () => {
    expect(pub(master, 'scanmesh/v1/master/status', true)).toBe(true);
    expect(pub(master, 'scanmesh/v1/master/status')).toBe(true);
    for (const topic of [
      'scanmesh/v1/master/hello',
      'scanmesh/v1/workers/pi-a/jobs',
      'scanmesh/v1/workers/pi-a/ack',
      'scanmesh/v1/master/status/x',
      'scanmesh/v2/master/status',
    ]) {
      expect(pub(master, topic, true), topic).toBe(false);
    }
  });

  it('subscribes to workers hello, bye and data, by wildcard or by id', () => {
    for (const c of ['hello', 'bye', 'data']) {
      expect(canSubscribe(master, `scanmesh/v1/workers/+/${c}`, t)).toBe(true);
      expect(canSubscribe(master, `scanmesh/v1/workers/pi-a/${c}`, t)).toBe(true);
    }
    for (const filter of [
      'scanmesh/v1/workers/+/jobs',
      'scanmesh/v1/workers/pi-a/ack',
      'scanmesh/v1/workers/#',
      'scanmesh/v1/workers/+/+',
      'scanmesh/v1/#',
      '#',
    ]) {
      expect(canSubscribe(master, filter, t), filter).toBe(false);
    }
  });
});

describe('status topic', () => {
  it('any account may read it by its exact name, without wildcards', () => {
    for (const who of [A, master]) {
      expect(canSubscribe(who, 'scanmesh/v1/master/status', t)).toBe(true);
      expect(canSubscribe(who, 'scanmesh/v1/master/+', t)).toBe(false);
      expect(canSubscribe(who, 'scanmesh/v2/master/status', t)).toBe(false);
    }
    expect(canSubscribe(anon, 'scanmesh/v1/master/status', t)).toBe(true);
  });
});

describe('anonymous ACL', () => {
  it('opens the whole root and nothing outside it', () => {
    expect(pub(anon, 'scanmesh/v1/workers/pi-a/jobs', true)).toBe(true);
    expect(canSubscribe(anon, 'scanmesh/v1/#', t)).toBe(true);
    expect(pub(anon, 'scanmesh/v1/')).toBe(false);
    expect(pub(anon, 'scanmesh/v10/x')).toBe(false);
    expect(pub(anon, '$SYS/x')).toBe(false);
    expect(canSubscribe(anon, '#', t)).toBe(false);
    expect(canSubscribe(anon, '+/v1/#', t)).toBe(false);
  });
});

describe('client ids', () => {
  it('pins a worker to scanmesh-worker-<username> and a master to the master prefix', () => {
    expect(clientIdAllowed(A, 'scanmesh-worker-pi-a')).toBe(true);
    expect(clientIdAllowed(A, 'scanmesh-worker-pi-b')).toBe(false);
    expect(clientIdAllowed(A, 'scanmesh-worker-pi-a2')).toBe(false);
    expect(clientIdAllowed(A, 'scanmesh-master-x')).toBe(false);
    expect(clientIdAllowed(master, 'scanmesh-master-anything')).toBe(true);
    expect(clientIdAllowed(master, 'scanmesh-master-')).toBe(false);
    expect(clientIdAllowed(master, 'scanmesh-worker-pi-a')).toBe(false);
    expect(clientIdAllowed(anon, 'whatever')).toBe(true);
  });
});
