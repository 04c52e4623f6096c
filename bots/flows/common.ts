import { trusted } from 'mongoose';
import { Person } from '../../models/person.js';
import { atShanghai } from '../../models/calendar.js';
import { dayLabel, shanghaiWeekday } from '../../src/booking/time.js';
import type { Choice, Step, Turn } from '../dialogue/flow.js';

const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

/** 11月26日（周四）: a Shanghai day as residents say it. */
export const dayWithWeekday = (day: string) => {
  const noon = atShanghai(day, '12:00');
  return `${dayLabel(noon)}（${WEEKDAYS[shanghaiWeekday(noon)]}）`;
};

/**
 * For whom (代办): with `forOther`, the elder the person acts for, asked by number when there
 * are several; a step to say when there is none. Returns undefined when the slot is settled.
 */
export async function askForWhom(turn: Turn, slots: Record<string, unknown>): Promise<Step | undefined> {
  if (!slots.forOther || slots.forPerson) return undefined;
  const elders = [...turn.user.elders];
  if (elders.length === 0) {
    return { kind: 'done', text: '您还没有可以代办的老人。请老人（或社区工作人员）在小程序里确认代办关系后再来。' };
  }
  if (elders.length === 1) {
    slots.forPerson = elders[0];
    return undefined;
  }
  const people = await Person.find({ _id: trusted({ $in: elders }) }, { name: 1 }).lean();
  const choices: Choice[] = people.map((p) => ({ label: p.name ?? '（未填姓名）', value: String(p._id) }));
  return { kind: 'ask', slot: 'forPerson', text: '帮哪位老人办理？', choices };
}

/** The name to show for whom a booking is, when it is not the person talking. */
export async function forWhomLabel(turn: Turn, slots: Record<string, unknown>): Promise<string> {
  if (!slots.forPerson || slots.forPerson === turn.user.id) return '';
  const elder = await Person.findById(slots.forPerson as string, { name: 1 }).lean();
  return `\n为：${elder?.name ?? '代办的老人'}`;
}
