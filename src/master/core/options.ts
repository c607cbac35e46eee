export interface MasterCoreOptions {
  /** Name in S_HELLO and the `master` tag. */
  masterId: string;
  /** Attempts a job gets before it is recorded as failed. */
  maxAttempts: number;
  /** Time past a job's timeout before the master gives up on the worker running it, ms. */
  deadlineGraceMs: number;
  /**
   * How long after an assignment a CL_HELLO that does not list the job may be trusted to mean the
   * worker lost it, ms. A CL_HELLO can cross the JOB on the wire; one hello interval is enough.
   */
  lostAfterMs: number;
  /** S_HELLO rounds a worker may miss before it is INACTIVE (the seed's "greater than 2"). */
  maxMissedRounds: number;
  /**
   * After a restart, how long the master waits for the workers it believes run something before
   * counting their missed rounds, ms: they reconnect with a backoff of up to 30 s.
   */
  restartGraceMs: number;
}

export const DEFAULT_CORE_OPTIONS: MasterCoreOptions = {
  masterId: 'master',
  maxAttempts: 3,
  deadlineGraceMs: 30_000,
  lostAfterMs: 5_000,
  maxMissedRounds: 2,
  restartGraceMs: 30_000,
};
