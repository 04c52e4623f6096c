/**
 * The demo's childcare: sessions at 幸福里托育服务中心 on the next 7 weekdays (托小班 and
 * 托大班, mornings with 3 carers and afternoons with 2), and 郑晓雯's daughter 林朵朵 (20 months,
 * milk allergy) with grandma authorised to pick her up. Called once from seedDemo.
 */
import type { Model, Types } from 'mongoose';
import { atShanghai, dayjs } from '../../models/calendar.js';
import { Child, ChildcareSession, type ChildcareClassType } from '../../models/index.js';

export interface ChildcareSeedContext {
  /** Inserts `fields` unless a document matches `filter`, counting what it created (demo.ts's ensure). */
  put: (key: 'childcareSessions' | 'children', model: Model<any>, filter: Record<string, unknown>, fields: Record<string, unknown>) => Promise<Types.ObjectId>;
  nursery: Types.ObjectId;
  parent: Types.ObjectId;
  /** The Shanghai day the demo is seeded on. */
  today: string;
  now: Date;
}

const DAYS = 7;

/** The next `count` Monday-to-Friday days after `today`. */
function nextWeekdays(today: string, count: number): string[] {
  const days: string[] = [];
  for (let day = dayjs.utc(today).add(1, 'day'); days.length < count; day = day.add(1, 'day')) {
    if (day.day() >= 1 && day.day() <= 5) days.push(day.format('YYYY-MM-DD'));
  }
  return days;
}

export async function seedChildcare({ put, nursery, parent, today, now }: ChildcareSeedContext): Promise<void> {
  const born = atShanghai(dayjs.utc(today).subtract(20, 'month').subtract(10, 'day').format('YYYY-MM-DD'), '00:00');
  await put('children', Child, { parents: parent, name: '林朵朵' }, {
    parents: [parent],
    birthDate: born,
    allergies: ['牛奶'],
    healthNotes: '牛奶蛋白过敏，点心请用豆奶或米糊代替。',
    guardians: [{ name: '林秀珍', relation: '奶奶', phone: '13800000023', authorisedBy: parent, authorisedAt: now }],
  });

  const halves: Array<[string, string, Record<'托小班' | '托大班', number>]> = [
    ['08:30', '12:00', { 托小班: 3, 托大班: 3 }],
    ['14:00', '17:30', { 托小班: 2, 托大班: 2 }],
  ];
  for (const date of nextWeekdays(today, DAYS)) {
    for (const [from, to, carers] of halves) {
      for (const classType of ['托小班', '托大班'] as const satisfies readonly ChildcareClassType[]) {
        await put('childcareSessions', ChildcareSession, { centre: nursery, start: atShanghai(date, from), classType },
          { date, end: atShanghai(date, to), carersOnShift: carers[classType] });
      }
    }
  }
}
