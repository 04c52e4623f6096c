/**
 * Named failpoints: places in a command where a test can make it fail on purpose (after each
 * claim step, to prove the compensation gives everything back). They can be armed only when
 * NODE_ENV=test or CSB_FAILPOINTS=1 (read when arming, so a test file can set the flag);
 * otherwise `armFailpoint` refuses, nothing is ever armed, and `failpoint()` costs one check
 * of an empty map's size.
 */
const enabled = () => process.env.NODE_ENV === 'test' || process.env.CSB_FAILPOINTS === '1';

const armed = new Map<string, { error: () => Error; skip: number; remaining: number }>();

/** Throws the armed error when `name` is armed (and counts it down); else nothing. */
export function failpoint(name: string): void {
  if (armed.size === 0) return;
  const point = armed.get(name);
  if (!point) return;
  if (point.skip > 0) {
    point.skip -= 1;
    return;
  }
  point.remaining -= 1;
  if (point.remaining <= 0) armed.delete(name);
  throw point.error();
}

/**
 * Makes `times` passes through `name` throw, after letting `after` pass (the second
 * occurrence of a series). The default error is a TypeError: the programming error the
 * compensation must survive, not one of our named errors.
 */
export function armFailpoint(name: string, opts: { error?: () => Error; times?: number; after?: number } = {}): void {
  if (!enabled()) throw new Error('failpoints are disabled (NODE_ENV=test or CSB_FAILPOINTS=1 enables them)');
  armed.set(name, { error: opts.error ?? (() => new TypeError(`failpoint ${name}`)), skip: opts.after ?? 0, remaining: opts.times ?? 1 });
}

/** Disarms every failpoint (tests call it after each case). */
export function disarmFailpoints(): void {
  armed.clear();
}

/** Whether `name` is still armed (it was not passed through). */
export function isArmed(name: string): boolean {
  return armed.has(name);
}
