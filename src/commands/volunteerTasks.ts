import { createHash } from 'node:crypto';
import { Types, trusted } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { Facility } from '../../models/facility.js';
import { MONTHLY_VISIT_TAGS, Person } from '../../models/person.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { VolunteerTask, type VolunteerTaskDoc, type VolunteerTaskType } from '../../models/volunteerTask.js';
import { liveClaims } from '../booking/claims.js';
import { TIME_ZONE } from '../config.js';
import { BookingRuleError, ConflictError, NotFoundError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { markVolunteerRecordChanged } from './volunteerRecordStamp.js';
import { taskDetailsChanged } from './volunteerTaskSummaries.js';

/** A task's places: `peopleNeeded` numbered slots under this key (claimPlaces). */
export const taskPlacesKey = (task: Types.ObjectId | string) => `task:${task}`;
/** One claim per volunteer and task: slot 0 under this key. */
export const taskVolunteerKey = (task: Types.ObjectId | string, volunteer: Types.ObjectId | string) => `task-volunteer:${task}:${volunteer}`;
/** A volunteer's time in 15-minute units since the epoch: no two tasks can hold the same unit. */
export const volunteerTimeKey = (volunteer: Types.ObjectId | string) => `volunteer-time:${volunteer}`;

export const VOLUNTEER_UNIT_MINUTES = 15;
const UNIT_MS = VOLUNTEER_UNIT_MINUTES * 60_000;
/** The 15-minute units covering [start, end). */
export function volunteerUnits(start: Date, end: Date): number[] {
  const units: number[] = [];
  for (let u = Math.floor(start.getTime() / UNIT_MS); u < Math.ceil(end.getTime() / UNIT_MS); u += 1) units.push(u);
  return units;
}

/** Longest task: 12 hours (a whole-day event is two shifts). */
export const MAX_TASK_HOURS = 12;
export const MAX_PEOPLE_NEEDED = 200;

export const TASK_TYPE_LABELS: Record<VolunteerTaskType, string> = {
  meal_delivery: '送餐', elderly_visit: '探访', room_setup: '场地布置', childcare_helper: '托育助教', event: '活动',
};

export async function findVolunteerTask(id: string): Promise<VolunteerTaskDoc> {
  const task = Types.ObjectId.isValid(id) ? await VolunteerTask.findById(id) : null;
  if (!task) throw NotFoundError('没有找到这个志愿任务');
  return task;
}

/** The `_id` a task created under an idempotency key gets: the same key, the same task. */
export function taskIdForKey(key: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`volunteer-task:${key}`).digest('hex').slice(0, 24));
}

export interface VolunteerTaskInput {
  community: Types.ObjectId | string;
  facility?: Types.ObjectId | string;
  type: VolunteerTaskType;
  title: string;
  description?: string;
  place: string;
  start: Date;
  end: Date;
  peopleNeeded: number;
  skillsRequired?: string[];
  /** The staff member creating it; unset when another service does. */
  createdBy?: Types.ObjectId | string;
  /** Which service created it ('meals', 'monthly_visit'…). */
  source?: string;
  /** The elder a visit is for. */
  visitFor?: Types.ObjectId | string;
  /**
   * Idempotency for services and jobs: calls with the same key create one task (its `_id` is
   * derived from the key, so the unique `_id` index decides, on MongoDB and FerretDB alike).
   * E.g. `meal-run:<menu>:<grid>`, `monthly-visit:<elder>:<YYYY-MM>`.
   */
  key?: string;
}

/**
 * Creates a volunteer task, for staff (API) and for other services: meal delivery runs (the
 * meals service at cut-off) and the monthly visits to elders in hardship (a monthly job).
 * Returns the task and whether this call created it (false: the key had created it before).
 */
export async function createVolunteerTask(input: VolunteerTaskInput, now = new Date()): Promise<{ task: VolunteerTaskDoc; created: boolean }> {
  if (input.end <= input.start) throw BookingRuleError(400, 'task_time_invalid', '任务的结束时间应晚于开始时间');
  if (input.start <= now) throw BookingRuleError(400, 'task_in_past', '任务的开始时间已经过去，请选择将来的时间');
  if (input.end.getTime() - input.start.getTime() > MAX_TASK_HOURS * 3600_000) {
    throw BookingRuleError(400, 'task_too_long', `一个任务最长 ${MAX_TASK_HOURS} 小时，更长的活动请分成几个班次`);
  }
  if (!Number.isInteger(input.peopleNeeded) || input.peopleNeeded < 1 || input.peopleNeeded > MAX_PEOPLE_NEEDED) {
    throw BookingRuleError(400, 'people_needed_invalid', `需要人数应为 1–${MAX_PEOPLE_NEEDED} 的整数`);
  }
  if (input.facility) {
    const facility = await Facility.findById(input.facility);
    if (!facility || String(facility.community) !== String(input.community)) {
      throw BookingRuleError(400, 'facility_invalid', '所选服务场所不属于该社区');
    }
  }
  const _id = input.key ? taskIdForKey(input.key) : new Types.ObjectId();
  try {
    const task = await VolunteerTask.create({
      _id,
      community: input.community,
      facility: input.facility,
      type: input.type,
      title: input.title,
      description: input.description ?? '',
      place: input.place,
      start: input.start,
      end: input.end,
      peopleNeeded: input.peopleNeeded,
      skillsRequired: [...new Set(input.skillsRequired ?? [])],
      createdBy: input.createdBy,
      source: input.source,
      visitFor: input.visitFor,
    });
    return { task, created: true };
  } catch (err) {
    if (!input.key || !isDuplicateKey(err)) throw err;
    const task = await VolunteerTask.findById(_id);
    if (!task) throw err;
    return { task, created: false };
  }
}

/**
 * Creates the month's visit task for every active elder tagged 特困 or 独居, at most `limit`
 * new ones per call (a job calls it until `remaining` is 0). One task per elder and month
 * (key `monthly-visit:<elder>:<YYYY-MM>`), so re-runs and several instances create each once.
 * The visit is on the 5th of the month, or tomorrow when that has passed, 09:30–10:30, for
 * two volunteers with the 探访 skill. Nothing is created for a month that is over.
 */
export async function createMonthlyVisitTasks(month: string, now = new Date(), limit = 200): Promise<{ created: number; existing: number; remaining: number }> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new RangeError(`not a month (YYYY-MM): ${month}`);
  const first = dayjs.tz(`${month}-01`, TIME_ZONE);
  const lastDay = first.add(1, 'month').subtract(1, 'day').format('YYYY-MM-DD');
  const tomorrow = dayjs.utc(shanghaiDay(now)).add(1, 'day').format('YYYY-MM-DD');
  const fifth = `${month}-05`;
  const day = fifth > tomorrow ? fifth : tomorrow;
  if (day > lastDay) return { created: 0, existing: 0, remaining: 0 };

  const elders = await Person.find({ status: 'active', tags: trusted({ $in: [...MONTHLY_VISIT_TAGS] }) })
    .select('community address grid tags').sort({ _id: 1 }).lean();
  const keyOf = (elder: Types.ObjectId) => `monthly-visit:${elder}:${month}`;
  const ids = elders.map((e) => taskIdForKey(keyOf(e._id)));
  const existingIds = new Set((await VolunteerTask.find({ _id: trusted({ $in: ids }) }).select('_id').lean()).map((t) => String(t._id)));
  const todo = elders.filter((_, i) => !existingIds.has(String(ids[i])));

  const centres = new Map<string, Types.ObjectId | undefined>();
  let created = 0;
  for (const elder of todo.slice(0, limit)) {
    const community = String(elder.community);
    if (!centres.has(community)) {
      const centre = await Facility.findOne({ community: elder.community, kind: 'community_centre' }).select('_id').lean();
      centres.set(community, centre?._id);
    }
    const tag = MONTHLY_VISIT_TAGS.find((t) => elder.tags.includes(t))!;
    const where = [elder.address?.building, elder.grid].filter(Boolean).join('，') || '社区内';
    const result = await createVolunteerTask({
      community: elder.community!,
      facility: centres.get(community),
      type: 'elderly_visit',
      title: `${tag}老人月探访（${first.format('YYYY年M月')}）`,
      description: '两人一组上门探访，了解老人近况、身体和生活需求，发现异常及时告知网格员和工作人员。具体地址在认领后由工作人员告知。',
      place: where,
      start: atShanghai(day, '09:30'),
      end: atShanghai(day, '10:30'),
      peopleNeeded: 2,
      skillsRequired: ['探访'],
      source: 'monthly_visit',
      visitFor: elder._id,
      key: keyOf(elder._id),
    }, now);
    if (result.created) created += 1;
  }
  return { created, existing: existingIds.size, remaining: Math.max(0, todo.length - limit) };
}

/** How many places are claimed now (display and the open/full status; the claims decide). */
export async function syncTaskCount(taskId: Types.ObjectId): Promise<number> {
  let claimed = 0;
  for (let i = 0; i < 3; i += 1) {
    claimed = await CapacityClaim.countDocuments({ key: taskPlacesKey(taskId), ...liveClaims() });
    const task = await VolunteerTask.findById(taskId).select('peopleNeeded status claimedCount').lean();
    if (!task || task.status === 'cancelled' || task.status === 'done') return claimed;
    const status = claimed >= task.peopleNeeded ? 'full' : 'open';
    if (task.claimedCount === claimed && task.status === status) return claimed;
    await VolunteerTask.updateOne({ _id: taskId, status: trusted({ $in: ['open', 'full'] }) }, { $set: { claimedCount: claimed, status } });
  }
  return claimed;
}

export interface TaskChanges {
  title?: string;
  description?: string;
  place?: string;
  peopleNeeded?: number;
  skillsRequired?: string[];
}

/**
 * Staff change a task's details. Fewer places than volunteers already on it is refused (unassign
 * someone first); the time is fixed once created (cancel and create another).
 */
export async function updateVolunteerTask(task: VolunteerTaskDoc, changes: TaskChanges): Promise<VolunteerTaskDoc> {
  if (task.status === 'cancelled') throw ConflictError('该任务已取消，不能修改', 'task_closed');
  if (changes.peopleNeeded !== undefined && changes.peopleNeeded !== task.peopleNeeded) {
    const claimed = await CapacityClaim.find({ key: taskPlacesKey(task._id) }).select('slot').lean();
    if (claimed.some((c) => c.slot >= changes.peopleNeeded!)) {
      throw BookingRuleError(409, 'people_needed_below_claims',
        `已有 ${claimed.length} 人认领，改为 ${changes.peopleNeeded} 人会少于已占用的名额；请先取消部分志愿者的指派再修改`);
    }
  }
  await VolunteerTask.updateOne({ _id: task._id }, { $set: changes });
  await taskDetailsChanged();
  await syncTaskCount(task._id);
  // Its volunteers' service records show its title, type and place.
  const volunteers = await VolunteerAssignment.find({ task: task._id }).distinct('volunteer');
  await markVolunteerRecordChanged(...(volunteers as Types.ObjectId[]));
  return (await VolunteerTask.findById(task._id))!;
}

export interface TaskListQuery {
  community?: Types.ObjectId;
  facility?: string;
  type?: VolunteerTaskType;
  status?: string;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
}

export async function listVolunteerTasks(q: TaskListQuery) {
  const filter: Record<string, unknown> = {};
  if (q.community) filter.community = q.community;
  if (q.facility) filter.facility = q.facility;
  if (q.type) filter.type = q.type;
  if (q.status) filter.status = q.status;
  if (q.from || q.to) filter.start = trusted({ ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lt: q.to } : {}) });
  const [items, total] = await Promise.all([
    VolunteerTask.find(filter).sort({ start: 1, _id: 1 }).skip(q.offset).limit(q.limit),
    VolunteerTask.countDocuments(filter),
  ]);
  return { items, total };
}
