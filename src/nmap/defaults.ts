/** Seed 000's `default_timeout`: a scan that runs longer is stopped and reported as `timeout`. */
export const DEFAULT_JOB_TIMEOUT_S = 300;
