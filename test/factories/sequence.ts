let n = 0;

/** A number unique within the test run, for natural keys (codes, phones, names). */
export function nextSeq(): number {
  n += 1;
  return n;
}

/** A fake mobile number unique within the run, in the 1380000xxxx demo range (5000 and up). */
export function fakePhone(): string {
  return `1380000${String(5000 + (nextSeq() % 5000)).padStart(4, '0')}`;
}
