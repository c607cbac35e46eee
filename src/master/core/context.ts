import type { Effects } from './effects.ts';
import type { MasterCoreOptions } from './options.ts';
import type { MasterState } from './state.ts';

/** What every handler works with: the state, the options, the effects of this step, and now. */
export interface Ctx {
  state: MasterState;
  options: MasterCoreOptions;
  fx: Effects;
  now: number;
}
