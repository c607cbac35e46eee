import { describe, expect, it } from 'vitest';
import { TaskSlots } from './task-slots.ts';

describe('TaskSlots', () => {
  it('runs at most `size` tasks at once, the rest in the order they came, through failures', async () => {
    const slots = new TaskSlots(2);
    const started: number[] = [];
    const finish = new Map<number, { ok: () => void; fail: () => void }>();
    const results = [1, 2, 3, 4, 5].map((n) =>
      slots
        .run(
          () =>
            new Promise<number>((resolve, reject) => {
              started.push(n);
              finish.set(n, { ok: () => resolve(n), fail: () => reject(new Error(`task ${n}`)) });
            }),
        )
        .catch((err: Error) => err.message),
    );
    const tick = () => new Promise((r) => setTimeout(r, 0));
    await tick();
    expect(started).toEqual([1, 2]);
    finish.get(2)?.fail();
    await tick();
    expect(started).toEqual([1, 2, 3]);
    finish.get(1)?.ok();
    await tick();
    expect(started).toEqual([1, 2, 3, 4]);
    for (const n of [3, 4]) finish.get(n)?.ok();
    await tick();
    finish.get(5)?.ok();
    expect(await Promise.all(results)).toEqual([1, 'task 2', 3, 4, 5]);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new TaskSlots(0)).toThrow(RangeError);
  });
});
