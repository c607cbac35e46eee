import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The bench is started without --expose-gc; this switches it on for the one call below.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Memory this process retains after a full collection, MB: the JS heap in use plus buffers held
 * outside it. RSS would not do: pages freed by an earlier figure are reused without growing it.
 */
export function retainedMB(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
}
