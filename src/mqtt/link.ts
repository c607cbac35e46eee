import type { Logger } from '../log.ts';
import { createMqttClient, type BrokerTarget, type ClientOptions } from './client.ts';
import { superviseConnection } from './reconnect.ts';

/** The master's side of the broker: what it sends, whichever way it reaches the broker. */
export interface Link {
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain?: boolean): void;
  close(): Promise<void>;
}

export interface LinkHandlers {
  /** Topic filters to hear, at QoS 1. */
  filters: readonly string[];
  /** Each time the filters are in place: once at start, again after every reconnect. */
  onReady(): void;
  /** The connection to the broker dropped (never for a local broker); `onReady` follows it back. */
  onDown?(): void;
  onMessage(topic: string, payload: Buffer): void;
}

/**
 * A broker in this very process that takes the master without MQTT (broker/embedded.ts): no
 * packets encoded and parsed twice, no stream, nothing to reconnect.
 */
export interface LocalBroker {
  /** `clientId` names the master in the broker's log, as its MQTT client id would. */
  link(handlers: LinkHandlers, clientId: string): Link;
}

export type LinkTarget = BrokerTarget | { local: LocalBroker };

/**
 * The master's link: straight onto a local broker, or an mqtt.js client with a persistent
 * session that retries forever and subscribes again on every (re)connect.
 */
export function openLink(
  target: LinkTarget,
  options: ClientOptions,
  handlers: LinkHandlers,
  log: Logger,
): Link {
  if ('local' in target) return target.local.link(handlers, options.clientId);
  const client = createMqttClient(target, options);
  client.on('connect', () => {
    client.subscribe([...handlers.filters], { qos: 1 }, (err) => {
      if (err) return log.error({ err }, 'subscribe failed');
      handlers.onReady();
    });
  });
  client.on('close', () => handlers.onDown?.());
  client.on('reconnect', () => log.debug('reconnecting to broker'));
  superviseConnection(client, log); // retry forever with backoff; log why, once per reason
  client.on('message', (topic, payload) => handlers.onMessage(topic, payload));
  return {
    publish: (topic, payload, qos, retain = false) =>
      void client.publish(topic, payload, { qos, retain }),
    close: () => new Promise<void>((r) => client.end(false, {}, () => r())),
  };
}
