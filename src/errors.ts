/**
 * Every failure scanmesh reports has a stable code. Tests and log consumers match on `code`,
 * never on message text, so messages can improve without breaking anyone.
 */
export const ErrorCodes = {
  SCANMESH_BAD_CONFIG: 'a configuration value is missing, unknown or of the wrong shape',
  SCANMESH_BAD_COMMAND: 'a commands.txt line is not a usable nmap command line',
  SCANMESH_REFUSED_OPTION: 'an nmap option is not allowed by the argument policy',
  SCANMESH_OUT_OF_SCOPE: 'a scan target lies outside the allowed scope',
  SCANMESH_BAD_MESSAGE: 'an MQTT payload failed validation and was dropped',
  SCANMESH_BAD_TOPIC: 'a message arrived on a topic scanmesh does not use',
  SCANMESH_IDENTITY_MISMATCH: 'a message names a worker other than the one its topic belongs to',
  SCANMESH_BAD_XML: 'nmap XML output could not be parsed',
  SCANMESH_NMAP_FAILED: 'nmap could not run or exited with an error',
  SCANMESH_NMAP_TIMEOUT: 'nmap was stopped at the job timeout',
  SCANMESH_NEEDS_ROOT: 'the scan type needs raw-socket privileges the worker lacks',
  SCANMESH_STORE_FAILED: 'the durable store could not be read or written',
  SCANMESH_NOT_FOUND: 'the master store has no such thing: state dir, compared scan, host or job',
  SCANMESH_INFLUX_FAILED: 'a write to InfluxDB failed',
  SCANMESH_DELTA_FAILED: 'comparing a result with earlier ones failed; retried with backoff',
  SCANMESH_RESULT_MISSING:
    'an earlier result named in history.jsonl is gone from the store; its hosts compare as new',
  SCANMESH_WEBHOOK_FAILED:
    'a webhook delivery failed (network, timeout, 408, 429 or 5xx) and will be retried with backoff',
  SCANMESH_WEBHOOK_REFUSED:
    'a webhook receiver refused a notification for good (other 4xx, redirect); set aside in dead/webhooks',
  SCANMESH_BAD_SIGNATURE: 'a job was not signed by the pinned master key',
  SCANMESH_STALE_JOB: 'a signed job was stamped before one the worker already accepted (a replay)',
  SCANMESH_AUTH_FAILED: 'an MQTT client offered missing, unknown or wrong credentials',
  SCANMESH_NOT_AUTHORIZED:
    'an MQTT client tried a client id, will, publish or subscribe its role does not allow',
  SCANMESH_PACKET_TOO_LARGE:
    'an MQTT packet exceeded the broker size limit; its connection was closed',
  SCANMESH_USER_EXISTS: 'a broker user of that name already exists',
  SCANMESH_NO_SUCH_USER: 'no broker user of that name exists',
  SCANMESH_BROKER_UNREACHABLE: 'a one-shot command (status) could not reach the broker',
  SCANMESH_NO_STATUS: 'no master status message arrived on the status topic in time',
  SCANMESH_OS_ERROR:
    'the operating system refused what a command needed at start: a port in use, a missing path',
  SCANMESH_INSTALL_FAILED: 'an installer step failed or a precondition for installing is not met',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class ScanmeshError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScanmeshError';
    this.code = code;
  }
}

export function isScanmeshError(err: unknown, code?: ErrorCode): err is ScanmeshError {
  return err instanceof ScanmeshError && (code === undefined || err.code === code);
}
