import type { Aedes, AedesPublishPacket } from 'aedes';
import type { Logger } from '../log.ts';
import type { Link, LinkHandlers } from '../mqtt/link.ts';
import type { Topics } from '../protocol/topics.ts';
import { canPublish, canSubscribe, type Principal } from './acl.ts';

/**
 * The master in this process, on Aedes' own API instead of an MQTT client over an in-memory
 * stream. Through a client each of the master's messages was encoded and parsed twice in this
 * process, and its QoS 1 deliveries went through the session store; here they are handed over as
 * they are. What the broker does for workers does not change: their packets are authorised as
 * before, the master's publishes reach them at QoS 1 through their sessions (queued while they
 * are offline), and the master's status is retained.
 *
 * The master is still held to the master ACL (acl.ts), as a master client would be: a refused
 * publish or filter is logged and dropped. Worker identity stays the master's check: the topic a message
 * arrives on names its sender, which the broker's ACL guarantees.
 */
export function localLink(
  aedes: Aedes,
  topics: Topics,
  handlers: LinkHandlers,
  clientId: string,
  log: Logger,
): Link {
  const master: Principal = { kind: 'user', role: 'master', name: clientId };
  let open = true;
  const deliver = (packet: AedesPublishPacket, done: () => void) => {
    try {
      if (open) handlers.onMessage(packet.topic, payloadOf(packet));
    } finally {
      done();
    }
  };
  const filters = handlers.filters.filter((filter) => {
    if (canSubscribe(master, filter, topics)) return true;
    log.warn(
      { code: 'SCANMESH_NOT_AUTHORIZED', client: clientId, topic: filter },
      'subscribe refused',
    );
    return false;
  });
  void Promise.all(
    filters.map((f) => new Promise<void>((resolve) => aedes.subscribe(f, deliver, resolve))),
  ).then(() => {
    if (open) handlers.onReady();
  });
  return {
    publish(topic, payload, qos, retain = false) {
      if (!open) return;
      if (!canPublish(master, { topic, retain }, topics)) {
        const reason = `publish on ${topic}${retain ? ' (retained)' : ''} not allowed`;
        log.warn({ code: 'SCANMESH_NOT_AUTHORIZED', client: clientId, reason }, 'publish refused');
        return;
      }
      aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) => {
        if (err) log.debug({ client: clientId, topic, err: err.message }, 'local publish failed');
      });
    },
    async close() {
      open = false;
      await Promise.all(
        filters.map((f) => new Promise<void>((resolve) => aedes.unsubscribe(f, deliver, resolve))),
      );
    },
  };
}

function payloadOf(packet: AedesPublishPacket): Buffer {
  return typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
}
