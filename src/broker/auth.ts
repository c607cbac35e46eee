import type { AedesOptions, AuthErrorCode, Client, ConnectPacket, PublishPacket } from 'aedes';
import { ScanmeshError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Topics } from '../protocol/topics.ts';
import { canPublish, canSubscribe, canWill, clientIdAllowed } from './acl.ts';
import type { Principal } from './acl.ts';
import { DEFAULT_SCRYPT, hashPassword, verifyPasswordAsync } from './users.ts';
import type { BrokerUser, UsersFile } from './users.ts';

export interface AuthOptions {
  /** null only in anonymous mode without a users file. */
  users: UsersFile | null;
  allowAnonymous: boolean;
  topics: Topics;
  logger: Logger;
}

export type AuthHandlers = Required<
  Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>
>;

// MQTT 3.1.1 CONNACK return codes. aedes types them as a const enum, which isolatedModules
// cannot read at runtime, so the values are spelled out and only the type is borrowed.
const SERVER_UNAVAILABLE = 3 as AuthErrorCode;
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;
const NOT_AUTHORIZED = 5 as AuthErrorCode;

type Will = NonNullable<ConnectPacket['will']>;

/** A refused CONNECT: the error aedes logs, carrying the CONNACK code it sends. */
type Refusal = ScanmeshError & { returnCode: AuthErrorCode };

/**
 * Aedes' four security hooks over one shared view of each connection. The principal lives in a
 * WeakMap keyed by aedes' client object rather than on it: typed, invisible to aedes, and gone
 * with the client.
 */
export function createAuthHandlers(options: AuthOptions): AuthHandlers {
  const { topics, logger: log } = options;
  const byName = new Map((options.users?.users ?? []).map((u) => [u.name, u]));
  const principals = new WeakMap<Client, Principal>();
  // The CONNECT's will, kept from preConnect (which sees the packet) for authenticate (which
  // does not) and for recognising the will when aedes publishes it at disconnect.
  const wills = new WeakMap<Client, Will>();
  // Unknown users are checked against this too, at the same cost as the real ones, so a refusal
  // takes as long whether or not the name exists: timing does not reveal enrolled worker ids.
  const decoyParams = options.users?.users[0]?.params ?? DEFAULT_SCRYPT;
  let decoy: BrokerUser | undefined;
  const decoyUser = () => (decoy ??= hashPassword('decoy', 'worker', 'decoy', decoyParams));

  const refuse = (code: ErrorCode, returnCode: AuthErrorCode, reason: string): Refusal =>
    Object.assign(new ScanmeshError(code, reason), { returnCode });

  /** Who is connecting, from the credentials alone. */
  const identify = async (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | Refusal> => {
    if (username === undefined || username === '') {
      if (options.allowAnonymous) return { kind: 'anonymous' };
      return refuse('SCANMESH_AUTH_FAILED', NOT_AUTHORIZED, 'no username given');
    }
    // Anonymous mode without a users file has nothing to check names against.
    if (options.users === null) return { kind: 'anonymous' };
    const user = byName.get(username);
    const ok = await verifyPasswordAsync(user ?? decoyUser(), password?.toString('utf8') ?? '');
    if (!user || !ok || password === undefined) {
      const reason = `bad username or password for "${username}"`;
      return refuse('SCANMESH_AUTH_FAILED', BAD_USERNAME_OR_PASSWORD, reason);
    }
    return { kind: 'user', role: user.role, name: user.name };
  };

  /** Whether that principal may use this client id and this will. */
  const admit = async (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | Refusal> => {
    const who = await identify(client, username, password);
    if (who instanceof ScanmeshError) return who;
    if (!clientIdAllowed(who, client.id)) {
      const as = who.kind === 'user' ? `${who.role} "${who.name}"` : 'anonymous';
      return refuse('SCANMESH_NOT_AUTHORIZED', NOT_AUTHORIZED, `client id not allowed for ${as}`);
    }
    const will = wills.get(client);
    if (will && !canWill(who, { topic: will.topic, retain: will.retain ?? false }, topics)) {
      return refuse('SCANMESH_NOT_AUTHORIZED', NOT_AUTHORIZED, `will on ${will.topic} not allowed`);
    }
    return who;
  };

  return {
    preConnect(client, packet, done) {
      if (packet.will) wills.set(client, packet.will);
      done(null, true);
    },

    authenticate(client, username, password, done) {
      admit(client, username, password).then(
        (verdict) => {
          if (verdict instanceof ScanmeshError) {
            log.warn(
              { code: verdict.code, client: client.id, reason: verdict.message },
              'mqtt connection refused',
            );
            return done(verdict, false);
          }
          principals.set(client, verdict);
          done(null, true);
        },
        (err: unknown) => {
          log.error({ err, client: client.id }, 'authentication failed unexpectedly');
          const error = Object.assign(new Error('server unavailable'), {
            returnCode: SERVER_UNAVAILABLE,
          });
          done(error, false);
        },
      );
    },

    authorizePublish(client, packet, done) {
      // A null client is a stale will from another broker instance; with in-memory persistence
      // there are none, and we cannot tell whose it is, so it is not published.
      const principal = client ? principals.get(client) : undefined;
      const isWill = client !== null && wills.get(client) === packet;
      const msg = { topic: packet.topic, retain: packet.retain };
      const ok =
        principal !== undefined &&
        (isWill ? canWill(principal, msg, topics) : canPublish(principal, msg, topics));
      if (ok) return done(null);
      // Aedes closes the connection on a refused publish: MQTT 3.1.1 has no negative PUBACK.
      done(denied(log, client, isWill ? 'will' : 'publish', packet));
    },

    authorizeSubscribe(client, sub, done) {
      const principal = principals.get(client);
      if (principal && canSubscribe(principal, sub.topic, topics)) return done(null, sub);
      log.warn(
        { code: 'SCANMESH_NOT_AUTHORIZED', client: client.id, topic: sub.topic },
        'subscribe refused',
      );
      // A null subscription is SUBACK 0x80 for this filter; the connection stays up.
      done(null, null);
    },
  };
}

function denied(log: Logger, client: Client | null, what: string, packet: PublishPacket) {
  const reason = `${what} on ${packet.topic}${packet.retain ? ' (retained)' : ''} not allowed`;
  log.warn({ code: 'SCANMESH_NOT_AUTHORIZED', client: client?.id, reason }, 'publish refused');
  return new ScanmeshError('SCANMESH_NOT_AUTHORIZED', reason);
}
