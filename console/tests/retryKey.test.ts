import { describe, expect, it } from 'vitest';
import { createRetryKey } from '../src/lib/retryKey';

describe('the retry-safe Idempotency-Key of the time-bank forms', () => {
  let n = 0;
  const ids = () => String(++n);

  it('sends the same key when the same request is retried after a network or server failure', () => {
    const k = createRetryKey('tb', ids);
    const first = k.keyFor({ hours: 2, service: 'meal' });
    k.settled('unknown');
    expect(k.keyFor({ hours: 2, service: 'meal' })).toBe(first);
  });

  it('takes a new key for another body, and after any answer of the API', () => {
    const k = createRetryKey('tb', ids);
    const first = k.keyFor({ hours: 2 });
    k.settled('unknown');
    const changed = k.keyFor({ hours: 3 });
    expect(changed).not.toBe(first);
    k.settled('answered'); // e.g. refused over the balance: the next try is a new request
    expect(k.keyFor({ hours: 3 })).not.toBe(changed);
    expect(k.keyFor({ hours: 3 })).toMatch(/^tb-\d+$/);
  });
});
