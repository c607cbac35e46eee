/** Time and timers behind one small interface so the shells can be driven by fake time in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    return { id: setTimeout(fn, ms) };
  },
  setInterval: (fn, ms) => {
    return { id: setInterval(fn, ms) };
  },
  clear: (handle) => {
    clearTimeout(handle.id as NodeJS.Timeout);
  },
};
