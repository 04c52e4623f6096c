import type { Flow } from '../dialogue/flow.js';
import { childcareBookingLines } from './childcare.js';
import { mealOrderLines } from './meals.js';
import { roomBookingLines } from './rooms.js';

/** 我的预约: what the person (and the elders they act for) have booked and is still ahead. */
export const bookingList: Flow = {
  intent: 'booking.list',
  absorb: () => [],
  async next(turn) {
    // The three reads at once: one wait, not three in a row.
    const [meals, rooms, childcare] = await Promise.all([mealOrderLines(turn), roomBookingLines(turn), childcareBookingLines(turn)]);
    const lines = [...meals, ...rooms, ...childcare];
    return { kind: 'done', text: lines.length ? `您接下来的预约：\n${lines.map((l, i) => `${i + 1}. ${l}`).join('\n')}\n要取消请说，例如：取消周五借的活动室` : '您现在没有预约。想预约请直接说，例如：明天下午2点到4点借活动室，10个人' };
  },
};
