import { Types } from 'mongoose';
import { atShanghai, shanghaiDay } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { Room } from '../../models/room.js';
import { RoomBooking, type RoomBookingStatus } from '../../models/roomBooking.js';
import { hhmm, rangeLabel } from '../../src/booking/time.js';
import { beneficiary } from '../../src/commands/actingFor.js';
import { roomAvailabilityFromGrid } from '../../src/commands/roomAvailability.js';
import { cancelRoomBooking, createRoomBooking, findRoom, findRoomBooking, type RoomBookingDeps } from '../../src/commands/roomBookings.js';
import { bookRoomSeries } from '../../src/commands/roomSeries.js';
import { freeRoomsFromGrid, nearestRoomSlots, roomBookingRefusal, slotTakenOnGrid } from '../../src/commands/roomChecks.js';
import { cachedRead } from '../../src/cache/readCache.js';
import { authorize } from '../../src/policies/index.js';
import { readSlots } from '../nlu/index.js';
import { purposeOf } from '../nlu/purpose.js';
import { absorbFields, type Choice, type Flow, type Step, type Turn } from '../dialogue/flow.js';
import { askForWhom, dayWithWeekday, forWhomLabel } from './common.js';

const roomDeps = (turn: Turn): RoomBookingDeps => ({ rules: turn.deps.config.booking, redis: turn.deps.redis, log: turn.deps.log });

/** The community centres of the person's community (where rooms are). */
async function centresOf(turn: Turn) {
  const community = turn.person.community;
  if (!community) return [];
  // Read on every room step: cached (src/cache/readCache.ts).
  return cachedRead(`centres:${community}`, ['Facility'], () => Facility.find({ community, kind: 'community_centre' }).lean(), { shared: true });
}

const STATUS: Record<string, string> = { pending: '待审核', confirmed: '已确认', checked_in: '已签到' };

/** 预约活动室: day, time, people, then a free room that fits, the summary, 确认. */
export const bookRoom: Flow = {
  intent: 'room.book',
  changeable: [
    { slot: 'dates', label: '日期', clears: ['roomId'] },
    { slot: 'start', label: '时间', clears: ['end', 'roomId'] },
    { slot: 'people', label: '人数', clears: ['roomId'] },
    { slot: 'roomId', label: '活动室' },
  ],
  absorb(slots, u, turn) {
    // "到5点", answering "用到几点？": a lone time is the end.
    if (slots.start && !slots.end && u.start && !u.end && u.start > (slots.start as string)) u = { ...u, end: u.start, start: undefined };
    const set = absorbFields(slots, u, ['dates', 'start', 'end', 'people', 'forOther']);
    if (set.includes('dates') || set.includes('start')) delete slots.roomId;
    if (u.intent === 'room.book') {
      // The purpose said (跳广场舞, 开会), not the whole message (issue 20).
      const purpose = purposeOf(turn.text);
      if (purpose && !slots.purpose) slots.purpose = purpose;
      slots.roomHint = `${(slots.roomHint as string | undefined) ?? ''} ${turn.text}`;
    }
    return set;
  },
  async next(turn, slots) {
    // An alternative picked after a refusal (another day or time in the same room).
    if (slots.__alt) {
      Object.assign(slots, slots.__alt as object);
      delete slots.__alt;
    }
    const forWhom = await askForWhom(turn, slots);
    if (forWhom) return forWhom;
    if (!slots.dates) return { kind: 'ask', slot: 'dates', text: '哪天用活动室？例如：明天、下周三、12月5号' };
    if (!slots.start) return { kind: 'ask', slot: 'start', text: '几点到几点？例如：下午2点到4点' };
    if (!slots.end) return { kind: 'ask', slot: 'end', text: `从 ${slots.start as string} 用到几点？例如：到5点` };
    if (!slots.people) return { kind: 'ask', slot: 'people', text: '大概有几个人参加？' };
    const dates = slots.dates as string[];
    const start = atShanghai(dates[0]!, slots.start as string);
    const end = atShanghai(dates[0]!, slots.end as string);
    if (!slots.roomId) {
      const centres = await centresOf(turn);
      const choices: Choice[] = [];
      for (const centre of centres) {
        // From the grid's Redis projection and the read cache, not three scans (issue 20).
        const rooms = await freeRoomsFromGrid(turn.deps.redis, centre._id, { start, end, minCapacity: slots.people as number }, turn.now);
        for (const r of rooms.slice(0, 8 - choices.length)) {
          choices.push({ label: `${r.name}（${centre.name}，可容纳${r.capacity}人）`, value: String(r._id) });
        }
      }
      if (!choices.length) {
        const asked = `${dayWithWeekday(dates[0]!)} ${slots.start as string}–${slots.end as string}`;
        delete slots.start;
        delete slots.end;
        return { kind: 'ask', slot: 'start', text: `${asked} 没有合适的空活动室。换个时间吗？请说新的时间，例如：上午9点到11点` };
      }
      // A room the person named (借多功能厅) is taken when it is free and fits.
      const named = choices.filter((c) => (slots.roomHint as string | undefined)?.includes(c.label.split('（')[0]!));
      if (choices.length === 1 || named.length === 1) slots.roomId = (named.length === 1 ? named[0]! : choices[0]!).value;
      else return { kind: 'ask', slot: 'roomId', text: '这些活动室有空，选哪个？', choices };
    }
    const room = await findRoom(slots.roomId as string);
    // Every rule booking would refuse, checked now (issue 20), with the nearest way on.
    const checked = await checkBeforeConfirm(turn, slots, room, { start, end });
    if (checked.step) return checked.step;
    const when = dates.length > 1
      ? `${dates.map(dayWithWeekday).join('、')} 每次 ${hhmm(start)}–${hhmm(end)}`
      : `${dayWithWeekday(dates[0]!)} ${hhmm(start)}–${hhmm(end)}`;
    return {
      kind: 'confirm',
      text: `${checked.note}请确认预约：\n活动室：${room.name}\n时间：${when}\n人数：${slots.people as number}人${await forWhomLabel(turn, slots)}\n费用：免费\n回复“确认”预约，“改”修改，“取消”放弃。`,
    };
  },
  async execute(turn, slots) {
    const room = await findRoom(slots.roomId as string);
    authorize(turn.user, 'book', room);
    const forPerson = await beneficiary(turn.user, slots.forPerson as string | undefined);
    const dates = slots.dates as string[];
    const start = atShanghai(dates[0]!, slots.start as string);
    const end = atShanghai(dates[0]!, slots.end as string);
    const req = { start, end, purpose: (slots.purpose as string) || '居民活动', attendees: slots.people as number };
    if (dates.length > 1) {
      const result = await bookRoomSeries(roomDeps(turn), turn.user, room, forPerson, { ...req, weeks: dates.length, mode: 'free_only' }, turn.now);
      const lines = result.occurrences.map((o) => `${rangeLabel(o.start, o.end)}：${o.status === 'booked' ? '已预约' : `没约上（${o.reason?.message ?? '已被占用'}）`}`);
      return `${result.ok ? '好的，空着的都帮您约上了：' : '都没约上：'}\n${lines.join('\n')}`;
    }
    // The summary's grid check once more (no database): a slot booked since the summary is
    // refused as the claims would refuse it, without writing claims to take them back.
    const taken = await slotTakenOnGrid(turn.deps.redis, room, req);
    if (taken) throw taken;
    const booking = await createRoomBooking(roomDeps(turn), turn.user, room, forPerson, req, turn.now);
    return booking.status === 'pending'
      ? `已提交！${room.name} ${rangeLabel(booking.start, booking.end)}，需要工作人员审核，通过后会通知您。`
      : `预约成功！${room.name} ${rangeLabel(booking.start, booking.end)}。到了请在活动室扫码或输入签到码签到，超过开始时间15分钟未签到会自动释放。`;
  },
};

type Room = Awaited<ReturnType<typeof findRoom>>;

/**
 * The summary's check: for one day, what createRoomBooking would refuse (roomBookingRefusal),
 * and if refused the nearest slots in the same room (确认 takes the first); for a weekly
 * series, the command's own preview: the weeks that fit are kept (and said), the others
 * named with their reason; none fitting is a refusal of the first week.
 */
async function checkBeforeConfirm(turn: Turn, slots: Record<string, unknown>, room: Room, first: { start: Date; end: Date }): Promise<{ step?: Step; note: string }> {
  const person = await beneficiary(turn.user, slots.forPerson as string | undefined);
  const dates = slots.dates as string[];
  const attendees = slots.people as number;
  if (dates.length > 1) {
    const preview = await bookRoomSeries(roomDeps(turn), turn.user, room, person, {
      start: first.start, end: first.end, weeks: dates.length, purpose: '', attendees, mode: 'preview',
    }, turn.now);
    const fits = preview.occurrences.filter((o) => o.status === 'free').map((o) => shanghaiDay(o.start));
    const refused = preview.occurrences.filter((o) => o.status === 'conflict');
    if (!refused.length) return { note: '' };
    const reasons = refused.map((o) => `${dayWithWeekday(shanghaiDay(o.start))}：${o.reason?.message ?? '约不上'}`).join('\n');
    if (fits.length) {
      slots.dates = fits;
      return { note: `这几次约不上：\n${reasons}\n能约上的是下面这些。\n` };
    }
    return { step: await alternativesStep(turn, slots, room, person, first, reasons), note: '' };
  }
  const refusal = await roomBookingRefusal(roomDeps(turn), turn.user, room, person, first, attendees, turn.now);
  return refusal ? { step: await alternativesStep(turn, slots, room, person, first, refusal.message), note: '' } : { note: '' };
}

/** A refusal and the nearest slots of the same room that fit; the time is asked anew when none do. */
async function alternativesStep(turn: Turn, slots: Record<string, unknown>, room: Room, person: Awaited<ReturnType<typeof beneficiary>>, first: { start: Date; end: Date }, why: string): Promise<Step> {
  const near = await nearestRoomSlots(turn.user, room, person, first, slots.people as number, turn.now, 3, turn.deps.redis);
  if (!near.length) {
    delete slots.dates;
    delete slots.roomId;
    return { kind: 'ask', slot: 'dates', text: `${why}\n${room.name}最近一周没有合适的时间。换一天吗？例如：下周三` };
  }
  const choices: Choice[] = near.map((s) => ({
    label: `${dayWithWeekday(shanghaiDay(s.start))} ${hhmm(s.start)}–${hhmm(s.end)}`,
    value: { dates: [shanghaiDay(s.start)], start: hhmm(s.start), end: hhmm(s.end) },
  }));
  return { kind: 'ask', slot: '__alt', text: `${why}\n${room.name}最近能约的时间：`, choices, alternatives: true };
}

/**
 * The person's upcoming room bookings that still hold a room (for them, or the elder). One
 * equality read per person and holding status (`{bookedFor, status}`, which FerretDB pushes
 * down; a `$in` or a range is filtered row by row after decoding the whole collection:
 * docs/performance.md), so the rows read are the bookings still open, not the person's
 * history (a past booking leaves these statuses: checked in, completed, released as a no-show).
 * The time is filtered here.
 */
async function upcoming(turn: Turn, dates?: string[]) {
  const people = [turn.user.id, ...turn.user.elders];
  const reads = people.flatMap((id) => [...HOLDS].map((status) => RoomBooking.find({ bookedFor: new Types.ObjectId(id), status }).lean()));
  const found = (await Promise.all(reads)).flat();
  const bookings = found.filter((b) => HOLDS.has(b.status) && b.end > turn.now).sort((a, b) => a.start.getTime() - b.start.getTime()).slice(0, 20);
  return dates?.length ? bookings.filter((b) => dates.includes(shanghaiDay(b.start))) : bookings;
}
const HOLDS = new Set<RoomBookingStatus>(['pending', 'confirmed']);

/** 取消活动室: which booking (by number when several), then 确认. */
export const cancelRoom: Flow = {
  intent: 'room.cancel',
  absorb: (slots, u) => absorbFields(slots, u, ['dates']),
  async next(turn, slots) {
    if (!slots.bookingId) {
      const bookings = await upcoming(turn, slots.dates as string[] | undefined);
      if (!bookings.length) return { kind: 'done', text: slots.dates ? '那天没有找到您预约的活动室。' : '您现在没有可以取消的活动室预约。' };
      const choices = await Promise.all(bookings.slice(0, 8).map(async (b) => ({
        label: `${(await findRoom(String(b.room))).name} ${rangeLabel(b.start, b.end)}`, value: String(b._id),
      })));
      if (choices.length > 1) return { kind: 'ask', slot: 'bookingId', text: '要取消哪一个？', choices };
      slots.bookingId = choices[0]!.value;
    }
    const booking = await findRoomBooking(slots.bookingId as string);
    const room = await findRoom(String(booking.room));
    return { kind: 'confirm', text: `确定取消 ${room.name} ${rangeLabel(booking.start, booking.end)} 的预约吗？回复“确认”取消，“返回”重新选择。` };
  },
  async execute(turn, slots) {
    const booking = await findRoomBooking(slots.bookingId as string);
    authorize(turn.user, 'cancel', booking);
    const cancelled = await cancelRoomBooking(roomDeps(turn), turn.user, booking, false, undefined, turn.now);
    return `已取消 ${rangeLabel(cancelled.start, cancelled.end)} 的活动室预约。`;
  },
};

/** 有空房间吗: the free times of each room of the centre on the day asked (today by default). */
export const roomAvailabilityFlow: Flow = {
  intent: 'room.availability',
  absorb: (slots, u) => absorbFields(slots, u, ['dates', 'start', 'end', 'people']),
  async next(turn, slots) {
    const day = (slots.dates as string[] | undefined)?.[0] ?? shanghaiDay(turn.now);
    const lines: string[] = [];
    for (const centre of await centresOf(turn)) {
      if (slots.start && slots.end) {
        const rooms = await freeRoomsFromGrid(turn.deps.redis, centre._id, {
          start: atShanghai(day, slots.start as string), end: atShanghai(day, slots.end as string), minCapacity: slots.people as number | undefined,
        }, turn.now);
        lines.push(...rooms.map((r) => `${r.name}（可容纳${r.capacity}人）`));
        continue;
      }
      // From the grid's projection and the read cache: ten rooms read their claims one by one before.
      const rooms = await Promise.all((await roomsOf(centre._id)).map((room) => findRoom(String(room._id))));
      const availability = await Promise.all(rooms.map((room) => roomAvailabilityFromGrid(turn.deps.redis, room, day, turn.now)));
      rooms.forEach((room, i) => {
        const free = availability[i]!.free;
        if (free.length) lines.push(`${room.name}：${free.map((f) => `${hhmm(f.start)}–${hhmm(f.end)}`).join('、')}`);
      });
    }
    const when = slots.start && slots.end ? `${dayWithWeekday(day)} ${slots.start as string}–${slots.end as string}` : dayWithWeekday(day);
    return {
      kind: 'done',
      text: lines.length ? `${when}有空的活动室：\n${lines.join('\n')}\n想预约请直接说，例如：${when.split(' ')[0]}下午2点到4点借活动室，10个人` : `${when}没有空的活动室了，换一天看看？`,
    };
  },
};

/** The centre's rooms by name, from the read cache (the same entry freeRooms and the grid read). */
const roomsOf = (facility: Types.ObjectId) =>
  cachedRead(`facility-rooms:${facility}`, ['Room'], () => Room.find({ facility }).sort({ name: 1 }).lean(), { shared: true });

/** The room part of 我的预约. */
export async function roomBookingLines(turn: Turn): Promise<string[]> {
  const bookings = await upcoming(turn);
  return Promise.all(bookings.map(async (b) => `活动室 ${(await findRoom(String(b.room))).name} ${rangeLabel(b.start, b.end)}（${STATUS[b.status] ?? b.status}）`));
}


const MOVE_TO = /改到|换到|挪到|调到|改成|换成|改为|推迟到|提前到/;

/**
 * 改时间 (把明天的会议室改到后天): residents cannot move a booking (staff can), so the bot books
 * the new time in the same room first and, only once that succeeded, cancels the old one: the
 * person is never left without a room. Same time of day unless a new one is said.
 */
export const rescheduleRoom: Flow = {
  intent: 'room.reschedule',
  absorb(slots, u, turn) {
    const move = MOVE_TO.exec(turn.text);
    if (u.intent === 'room.reschedule' && move) {
      const from = readSlots(turn.text.slice(0, move.index), turn.now);
      const to = readSlots(turn.text.slice(move.index), turn.now);
      if (from.dates) slots.fromDates = from.dates;
      return absorbFields(slots, { intent: 'room.reschedule', ...to }, ['dates', 'start', 'end']);
    }
    return absorbFields(slots, u, ['dates', 'start', 'end']);
  },
  async next(turn, slots) {
    if (!slots.bookingId) {
      const bookings = (await upcoming(turn, slots.fromDates as string[] | undefined)).filter((b) => b.start > turn.now);
      if (!bookings.length) return { kind: 'done', text: '没有找到可以改时间的活动室预约。' };
      const choices = await Promise.all(bookings.slice(0, 8).map(async (b) => ({
        label: `${(await findRoom(String(b.room))).name} ${rangeLabel(b.start, b.end)}`, value: String(b._id),
      })));
      if (choices.length > 1) return { kind: 'ask', slot: 'bookingId', text: '要改哪一个？', choices };
      slots.bookingId = choices[0]!.value;
    }
    if (!slots.dates) return { kind: 'ask', slot: 'dates', text: '改到哪天？例如：后天、下周三' };
    const old = await findRoomBooking(slots.bookingId as string);
    const start = atShanghai((slots.dates as string[])[0]!, (slots.start as string | undefined) ?? hhmm(old.start));
    const end = slots.end
      ? atShanghai((slots.dates as string[])[0]!, slots.end as string)
      : new Date(start.getTime() + (old.end.getTime() - old.start.getTime()));
    slots.newStart = start.toISOString();
    slots.newEnd = end.toISOString();
    const room = await findRoom(String(old.room));
    return { kind: 'confirm', text: `把 ${room.name} ${rangeLabel(old.start, old.end)} 改到 ${rangeLabel(start, end)}？\n回复“确认”修改，“取消”不改。` };
  },
  async execute(turn, slots) {
    const old = await findRoomBooking(slots.bookingId as string);
    authorize(turn.user, 'cancel', old);
    const room = await findRoom(String(old.room));
    const forPerson = await beneficiary(turn.user, String(old.bookedFor));
    const booked = await createRoomBooking(roomDeps(turn), turn.user, room, forPerson, {
      start: new Date(slots.newStart as string), end: new Date(slots.newEnd as string), purpose: old.purpose, attendees: old.attendees,
    }, turn.now);
    await cancelRoomBooking(roomDeps(turn), turn.user, old, false, '改时间', turn.now);
    return `已改好：${room.name} ${rangeLabel(booked.start, booked.end)}${booked.status === 'pending' ? '（需工作人员审核）' : ''}，原来的 ${rangeLabel(old.start, old.end)} 已取消。`;
  },
};
