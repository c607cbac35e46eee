import { systemClock } from '../clock.ts';
import { ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createPolicy, type Policy } from '../nmap/policy.ts';
import { createInfluxWriter, type InfluxWriter } from '../storage/influx-writer.ts';

/**
 * Real instances, built from validated config. The CLI is the only place that builds them; every
 * other module receives them.
 */
export interface ScanningConfig {
  scope: string[];
  exclude: string[];
  maxRate?: number;
  scripts: string[];
}

export function buildPolicy(c: ScanningConfig): Policy {
  return createPolicy({
    scripts: c.scripts,
    scope: { allow: c.scope, deny: c.exclude },
    ...(c.maxRate !== undefined ? { maxRate: c.maxRate } : {}),
  });
}

export function buildInflux(
  c: {
    influxUrl?: string;
    influxDb: string;
    influxUsername?: string;
    influxPassword?: string;
    influxToken?: string;
  },
  logger: Logger,
): InfluxWriter | null {
  if (!c.influxUrl) return null;
  return createInfluxWriter({
    url: c.influxUrl,
    database: c.influxDb,
    logger: logger.child({ component: 'influx' }),
    ...(c.influxUsername ? { username: c.influxUsername } : {}),
    ...(c.influxPassword ? { password: c.influxPassword } : {}),
    ...(c.influxToken ? { token: c.influxToken } : {}),
  });
}

export const clock = systemClock;

/** Stop cleanly on SIGINT/SIGTERM: flush what is durable, close the broker. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => handler('SIGINT'));
  process.once('SIGTERM', () => handler('SIGTERM'));
}

export interface BrokerListenConfig {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsPort: number;
  wsPort?: number;
}

/** The embedded broker's optional listeners: mqtts:// when a cert and key are given, and ws://. */
export function brokerListeners(c: BrokerListenConfig): {
  tls?: { cert: string; key: string; ca?: string };
  tlsPort?: number;
  wsPort?: number;
} {
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', '--tls-cert and --tls-key go together');
  }
  return {
    ...(c.tlsCert && c.tlsKey
      ? {
          tls: { cert: c.tlsCert, key: c.tlsKey, ...(c.tlsCa ? { ca: c.tlsCa } : {}) },
          tlsPort: c.tlsPort,
        }
      : {}),
    ...(c.wsPort !== undefined ? { wsPort: c.wsPort } : {}),
  };
}
