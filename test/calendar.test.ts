import { expect } from 'chai';
import { atShanghai, dayjs, isDay, shanghaiDay, shanghaiFields } from '../models/calendar.js';
import { dayLabel, hhmm, weekOf } from '../src/booking/time.js';
import { useCleanStorage } from './support/storage.js';

const TZ = 'Asia/Shanghai';

/** Instants spread over 1900–2100, with the DST summers of 1986–1991 and day edges included. */
function sampleInstants(): Date[] {
  const out: Date[] = [];
  let seed = 20261123;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 3000; i += 1) out.push(new Date(Date.UTC(1900, 0, 1) + random() * (Date.UTC(2100, 0, 1) - Date.UTC(1900, 0, 1))));
  for (const iso of ['1991-09-14T16:30:00Z', '1991-09-14T17:30:00Z', '1988-07-01T15:30:00Z', '2026-11-22T15:59:59.999Z', '2026-11-22T16:00:00Z', '2024-02-28T16:00:00Z']) {
    out.push(new Date(iso));
  }
  return out;
}

describe('Shanghai calendar helpers', () => {
  useCleanStorage();

  it('agree with the IANA time zone database for every sampled instant (fixed +08:00 since 1992, dayjs before)', () => {
    for (const at of sampleInstants()) {
      const d = dayjs(at).tz(TZ);
      expect(shanghaiDay(at), at.toISOString()).to.equal(d.format('YYYY-MM-DD'));
      const f = shanghaiFields(at);
      expect([f.hour, f.minute, f.weekday], at.toISOString()).to.deep.equal([d.hour(), d.minute(), d.day()]);
      expect(hhmm(at)).to.equal(d.format('HH:mm'));
      expect(dayLabel(at)).to.equal(d.format('M月D日'));
    }
  });

  it('puts a wall-clock time of a Shanghai day at the right instant, across the 1991 change', () => {
    for (const day of ['1988-07-01', '1991-09-15', '1992-01-01', '2026-11-23', '2028-02-29']) {
      for (const time of ['00:00', '09:30', '23:59', '24:00']) {
        const expected = dayjs.tz(day, TZ).add(Number(time.slice(0, 2)) * 60 + Number(time.slice(3)), 'minute').toDate();
        expect(atShanghai(day, time).toISOString(), `${day} ${time}`).to.equal(expected.toISOString());
      }
    }
  });

  it('gives the Monday of the week, weeks starting on Monday in Shanghai', () => {
    expect(weekOf(new Date('2026-11-22T15:59:00Z'))).to.equal('2026-11-16'); // Sunday 23:59 in Shanghai
    expect(weekOf(new Date('2026-11-22T16:00:00Z'))).to.equal('2026-11-23'); // Monday 00:00
    expect(weekOf(new Date('2027-01-01T02:00:00Z'))).to.equal('2026-12-28');
  });

  it('accepts real calendar days only', () => {
    expect(['2026-02-28', '2028-02-29', '2026-12-31'].every(isDay)).to.equal(true);
    expect(['2026-02-29', '2026-02-30', '2026-13-01', '2026-1-01', '26-01-01'].some(isDay)).to.equal(false);
  });
});
