export declare const WORKER_NODE_FLAGS: readonly string[];
export declare function missingNodeFlags(
  args: readonly string[],
  execArgv: readonly string[],
): string[];
