/**
 * An Idempotency-Key for a form that changes balances (time-bank redeem and adjust): a retry
 * of the same request after a network or server failure sends the same key, so it counts once;
 * anything else (another body, or a request the API answered) gets a new key, since the API
 * refuses a key reused with another body and replays the answer it gave to the same one.
 */
export function createRetryKey(prefix: string, makeId: () => string = () => crypto.randomUUID()) {
  let pending: { key: string; body: string } | null = null;
  return {
    /** The key to send with `body`. */
    keyFor(body: unknown): string {
      const text = JSON.stringify(body);
      if (pending?.body !== text) pending = { key: `${prefix}-${makeId()}`, body: text };
      return pending.key;
    },
    /** After the request: keep the key only when nothing is known to have happened (network, 5xx). */
    settled(outcome: 'answered' | 'unknown'): void {
      if (outcome === 'answered') pending = null;
    },
  };
}
