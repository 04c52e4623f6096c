import { Types, type QueryFilter, trusted } from 'mongoose';
import { Facility, type FacilityDoc } from '../../models/facility.js';
import { MIN_OPEN_HOURS_PER_DAY, openMinutesOn, validOpeningHours, type OpeningInterval } from '../../models/openingHours.js';
import { Room, type RoomDoc, type RoomFields } from '../../models/room.js';
import type { AuthUser } from '../auth/user.js';
import { isAdmin, isStaffOver } from '../auth/user.js';
import { BookingRuleError, ConflictError, NotFoundError } from '../errors.js';
import { recordOf } from '../policies/policy.js';
import type { RoomWithFacility } from '../policies/room.js';
import { isDuplicateKey } from '../storage/mongo.js';

/** 0 = Sunday, as in dayjs and the opening-hours schema. */
export const WEEKDAY_NAMES = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'] as const;

/** Loads a facility; 404 when there is none. */
export async function findFacility(id: string): Promise<FacilityDoc> {
  const facility = Types.ObjectId.isValid(id) ? await Facility.findById(id) : null;
  if (!facility) throw NotFoundError('没有找到这个服务场所');
  return facility;
}

const hoursLabel = (minutes: number) => `${Number((minutes / 60).toFixed(2))} 小时`;

/**
 * Refuses an opening-hours schedule that is malformed (closes before it opens, overlapping
 * intervals on one day) or keeps an open day under the policy floor of
 * MIN_OPEN_HOURS_PER_DAY hours (开放时间每天不少于 8 小时). A weekday with no interval is
 * closed, which is fine. Names every short weekday, in Chinese.
 */
export function assertOpeningHours(hours: readonly OpeningInterval[]): void {
  if (!validOpeningHours(hours)) {
    throw BookingRuleError(400, 'opening_hours_invalid', '开放时间有误：每段结束时间需晚于开始时间，同一天的各时段不能重叠');
  }
  const short = [0, 1, 2, 3, 4, 5, 6]
    .map((weekday) => ({ weekday, minutes: openMinutesOn(hours, weekday) }))
    .filter((d) => d.minutes > 0 && d.minutes < MIN_OPEN_HOURS_PER_DAY * 60);
  if (short.length) {
    const days = short.map((d) => `${WEEKDAY_NAMES[d.weekday]}（${hoursLabel(d.minutes)}）`).join('、');
    throw BookingRuleError(400, 'opening_hours_too_short',
      `${days}开放时间不足 ${MIN_OPEN_HOURS_PER_DAY} 小时：每个开放日至少需开放 ${MIN_OPEN_HOURS_PER_DAY} 小时，不开放的日子请不要填写时段`);
  }
}

/** What staff may set on a room (create and update). */
export interface RoomSettings {
  name?: string;
  capacity?: number;
  equipment?: string[];
  openingHours?: OpeningInterval[];
  minNoticeMinutes?: number;
  maxAdvanceDays?: number;
  maxDurationMinutes?: number;
  weeklyQuotaPerResident?: number;
  approvalRequired?: boolean;
  approvalRequiredFor?: string[];
}

const nameTaken = (err: unknown) => {
  if (isDuplicateKey(err)) {
    return ConflictError('本场所已有同名活动室，请换一个名称', 'room_name_taken');
  }
  return err;
};

/** Creates a room of `facility`; without opening hours it takes the facility's. */
export async function createRoom(facility: FacilityDoc, settings: RoomSettings & { name: string; capacity: number }): Promise<RoomDoc> {
  const openingHours = settings.openingHours ?? facility.openingHours.map((h) => ({ weekday: h.weekday, open: h.open, close: h.close }));
  assertOpeningHours(openingHours);
  try {
    return await Room.create({ ...settings, openingHours, facility: facility._id });
  } catch (err) {
    throw nameTaken(err);
  }
}

/**
 * Changes a room's settings. Bookings already made keep their time: a shorter opening day or a
 * smaller capacity applies to new bookings (staff move or cancel existing ones, with a reason).
 */
export async function updateRoom(room: RoomWithFacility, settings: RoomSettings): Promise<RoomWithFacility> {
  if (settings.openingHours) assertOpeningHours(settings.openingHours);
  const doc = Room.hydrate({ ...room, facility: room.facility._id });
  doc.set(settings);
  try {
    await doc.save();
    return recordOf(Room, { ...doc.toObject(), facility: room.facility });
  } catch (err) {
    throw nameTaken(err);
  }
}

export interface RoomListQuery {
  facility?: string;
  minCapacity?: number;
  equipment?: string[];
  limit: number;
  offset: number;
}

/**
 * Rooms matching the filters, with their facility's id. Without a facility: the rooms of the
 * caller's community (admins: every community).
 */
export async function listRooms(user: AuthUser, q: RoomListQuery) {
  const filter: QueryFilter<RoomFields> = {};
  if (q.facility) {
    filter.facility = new Types.ObjectId(q.facility);
  } else if (!isAdmin(user)) {
    const community = user.person.staffScope?.community ?? user.person.community;
    const facilities = community ? await Facility.find({ community }, { _id: 1 }).lean() : [];
    filter.facility = trusted({ $in: facilities.map((f) => f._id) });
  }
  if (q.minCapacity) filter.capacity = trusted({ $gte: q.minCapacity });
  if (q.equipment?.length) filter.equipment = trusted({ $all: q.equipment });
  const rooms = await Room.find(filter).sort({ facility: 1, name: 1 }).skip(q.offset).limit(q.limit).lean();
  const facilities = await Facility.find({ _id: trusted({ $in: [...new Set(rooms.map((r) => String(r.facility)))] }) }, { community: 1 }).lean();
  const communityOf = new Map(facilities.map((f) => [String(f._id), f.community]));
  return rooms.map((room) => ({
    room,
    staff: isAdmin(user) || isStaffOver(user, communityOf.get(String(room.facility)), room.facility),
  }));
}
