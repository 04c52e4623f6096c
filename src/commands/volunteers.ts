import { Types, trusted } from 'mongoose';
import { Person, type PersonDoc, type PersonFields } from '../../models/person.js';
import { VolunteerAbsence, type VolunteerAbsenceDoc, type VolunteerAbsenceKind } from '../../models/volunteerAbsence.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { dayjs } from '../../models/calendar.js';
import type { AuthUser } from '../auth/user.js';
import { TIME_ZONE, VOLUNTEER_DEFAULTS, type Config } from '../config.js';
import { BookingRuleError, ConflictError, NotFoundError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { auditStaffAccess } from './audit.js';
import { cachedRead } from '../cache/readCache.js';
import { notify } from './notify.js';

export type VolunteerRules = Config['volunteers'];

const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

export interface AvailabilityWindow {
  weekday: number;
  from: string;
  to: string;
}
export const availabilityToStored = (w: AvailabilityWindow) => `${w.weekday} ${w.from}-${w.to}`;
export function availabilityFromStored(s: string): AvailabilityWindow {
  const [weekday, range] = s.split(' ') as [string, string];
  const [from, to] = range.split('-') as [string, string];
  return { weekday: Number(weekday), from, to };
}
export const availabilityLabel = (w: AvailabilityWindow) => `周${WEEKDAYS[w.weekday]} ${w.from}–${w.to}`;

export async function findPersonById(id: string): Promise<PersonDoc> {
  const person = Types.ObjectId.isValid(id) ? await Person.findById(id) : null;
  if (!person || person.status === 'anonymised') throw NotFoundError('没有找到这位志愿者');
  return person;
}

/** Whether a volunteer is suspended at `now` (by staff, or by the absence rule). */
export function isSuspended(p: Pick<PersonDoc, 'volunteer'>, now = new Date()): boolean {
  const v = p.volunteer;
  if (!v?.suspendedAt) return false;
  return !v.suspendedUntil || v.suspendedUntil > now;
}

export interface VolunteerProfileInput {
  skills?: string[];
  availability?: AvailabilityWindow[];
  availabilityNote?: string;
  photoUrl?: string | null;
}

function profileSet(input: VolunteerProfileInput): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (input.skills) set['volunteer.skills'] = [...new Set(input.skills)];
  if (input.availability) set['volunteer.availability'] = input.availability.map(availabilityToStored);
  if (input.availabilityNote !== undefined) set['volunteer.availabilityNote'] = input.availabilityNote;
  if (input.photoUrl !== undefined) set['volunteer.photoUrl'] = input.photoUrl ?? undefined;
  return set;
}

/**
 * A resident registers as a volunteer (skills, availability, optional photo); staff verify
 * them before they can claim tasks. Registering again while registered is refused.
 */
export async function registerVolunteer(person: PersonFields, input: VolunteerProfileInput, now = new Date()): Promise<PersonDoc> {
  if (person.volunteer?.registeredAt || person.volunteer?.verified) {
    throw ConflictError('您已注册为志愿者，可在「我的志愿者资料」中修改技能和服务时间', 'already_registered');
  }
  if (!person.name || !person.phone || !person.community) {
    throw ConflictError('请先完善姓名、手机号和所在社区，再注册志愿者', 'profile_incomplete');
  }
  await Person.updateOne({ _id: person._id }, {
    $set: { ...profileSet(input), 'volunteer.registeredAt': now, 'volunteer.verified': false },
    $addToSet: { roles: 'volunteer' },
  });
  return (await Person.findById(person._id))!;
}

export async function updateVolunteerProfile(person: PersonFields, input: VolunteerProfileInput): Promise<PersonDoc> {
  if (!person.roles.includes('volunteer')) throw ConflictError('您还没有注册志愿者，请先注册', 'not_a_volunteer');
  const set = profileSet(input);
  const unset = input.photoUrl === null ? { 'volunteer.photoUrl': 1 } : undefined;
  if (unset) delete set['volunteer.photoUrl'];
  await Person.updateOne({ _id: person._id }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(unset ? { $unset: unset } : {}) });
  return (await Person.findById(person._id))!;
}

/** Staff confirm a registered volunteer (the resident must be verified too). */
export async function verifyVolunteer(user: AuthUser, person: PersonFields, now = new Date(), requestId?: string): Promise<PersonDoc> {
  if (!person.roles.includes('volunteer')) throw ConflictError('该居民还没有注册志愿者', 'not_a_volunteer');
  if (person.volunteer?.verified) throw ConflictError('该志愿者已认证，无需重复操作', 'already_verified');
  if (person.status !== 'active') throw ConflictError('请先认证该居民的身份信息，再认证志愿者', 'resident_not_verified');
  await Person.updateOne({ _id: person._id }, { $set: { 'volunteer.verified': true, 'volunteer.verifiedAt': now, 'volunteer.verifiedBy': user.person._id } });
  await auditStaffAccess(user, 'volunteer.verify', person._id, { requestId });
  await notify(person._id, `volunteer:${person._id}:verified`, 'volunteer_verified', '您的志愿者注册已通过认证，现在可以认领志愿服务任务了。');
  return (await Person.findById(person._id))!;
}

/** Suspends a volunteer (no new claims), until a date or until staff reinstate them. */
export async function suspendVolunteer(
  person: PersonFields, reason: string, until: Date | undefined, by: AuthUser | null, now = new Date(), requestId?: string,
): Promise<PersonDoc> {
  if (!person.roles.includes('volunteer')) throw ConflictError('该居民还没有注册志愿者', 'not_a_volunteer');
  await Person.updateOne({ _id: person._id }, {
    $set: { 'volunteer.suspendedAt': now, 'volunteer.suspendedReason': reason, ...(until ? { 'volunteer.suspendedUntil': until } : {}) },
    ...(until ? {} : { $unset: { 'volunteer.suspendedUntil': 1 } }),
  });
  if (by) await auditStaffAccess(by, 'volunteer.suspend', person._id, { requestId });
  await notify(person._id, `volunteer:${person._id}:suspended:${now.getTime()}`, 'volunteer_suspended',
    `您的志愿者资格已暂停，原因：${reason}。暂停期间不能认领新任务，如有疑问请联系社区工作人员。`);
  return (await Person.findById(person._id))!;
}

export async function reinstateVolunteer(user: AuthUser, person: PersonFields, requestId?: string): Promise<PersonDoc> {
  if (!person.volunteer?.suspendedAt) throw ConflictError('该志愿者没有被暂停', 'not_suspended');
  await Person.updateOne({ _id: person._id }, {
    $unset: { 'volunteer.suspendedAt': 1, 'volunteer.suspendedUntil': 1, 'volunteer.suspendedReason': 1 },
  });
  await auditStaffAccess(user, 'volunteer.reinstate', person._id, { requestId });
  await notify(person._id, `volunteer:${person._id}:reinstated:${Date.now()}`, 'volunteer_reinstated', '您的志愿者资格已恢复，可以继续认领任务。');
  return (await Person.findById(person._id))!;
}

/** Refuses a claim by someone who is not a verified, unsuspended volunteer. */
export function assertCanVolunteer(person: PersonFields, now = new Date()): void {
  if (!person.roles.includes('volunteer')) {
    throw BookingRuleError(403, 'not_a_volunteer', '您还不是志愿者，请先在小程序中注册志愿者');
  }
  if (person.status !== 'active' || !person.volunteer?.verified) {
    throw BookingRuleError(403, 'volunteer_not_verified', '您的志愿者注册还在等待社区认证，认证后才能认领任务');
  }
  if (isSuspended(person, now)) {
    const until = person.volunteer.suspendedUntil;
    throw BookingRuleError(403, 'volunteer_suspended',
      `您的志愿者资格已暂停${until ? `至${dayjs(until).tz(TIME_ZONE).format('YYYY年M月D日')}` : ''}，暂不能认领任务；如有疑问请联系社区工作人员`);
  }
}

/* ------------------------------------------------------------------ absences */

export const shanghaiYear = (at: Date) => dayjs(at).tz(TIME_ZONE).year();

/** Unexcused absences of a volunteer in a Shanghai calendar year. */
export function countAbsences(volunteer: Types.ObjectId, year: number): Promise<number> {
  return VolunteerAbsence.countDocuments({ volunteer, year, excused: false });
}

/**
 * Records an absence once per assignment (unique), then suspends the volunteer when their
 * unexcused absences this calendar year reach the limit. Racing absences each count after
 * their own insert, so the one that reaches the limit always sees it.
 */
export async function recordAbsence(
  assignment: { _id: Types.ObjectId; volunteer: Types.ObjectId; task: Types.ObjectId; community: Types.ObjectId },
  kind: VolunteerAbsenceKind,
  rules: Pick<VolunteerRules, 'absenceLimit'> = VOLUNTEER_DEFAULTS,
  now = new Date(),
): Promise<{ counted: boolean; absences: number; suspended: boolean }> {
  const year = shanghaiYear(now);
  try {
    await VolunteerAbsence.create({
      volunteer: assignment.volunteer, assignment: assignment._id, task: assignment.task, community: assignment.community, kind, at: now, year,
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return { counted: false, absences: await countAbsences(assignment.volunteer, year), suspended: false };
  }
  const absences = await countAbsences(assignment.volunteer, year);
  if (absences < rules.absenceLimit) return { counted: true, absences, suspended: false };
  const person = await Person.findById(assignment.volunteer);
  if (!person || isSuspended(person, now)) return { counted: true, absences, suspended: false };
  await suspendVolunteer(person, `${year}年内累计 ${absences} 次无故缺勤（达到 ${rules.absenceLimit} 次）`, undefined, null, now);
  return { counted: true, absences, suspended: true };
}

export async function findAbsence(id: string): Promise<VolunteerAbsenceDoc> {
  const absence = Types.ObjectId.isValid(id) ? await VolunteerAbsence.findById(id) : null;
  if (!absence) throw NotFoundError('没有找到这条缺勤记录');
  return absence;
}

/** Staff excuse an absence (illness, emergency): it stays on record but no longer counts. */
export async function excuseAbsence(user: AuthUser, absence: VolunteerAbsenceDoc, reason: string, now = new Date()) {
  if (absence.excused) throw ConflictError('这条缺勤已被认定为有故缺勤', 'already_excused');
  await VolunteerAbsence.updateOne({ _id: absence._id }, {
    $set: { excused: true, excusedBy: user.person._id, excusedAt: now, excuseReason: reason },
  });
  return (await VolunteerAbsence.findById(absence._id))!;
}

/* ------------------------------------------------------------------ recognition */

/** Star level (0–5) for total approved hours: the number of thresholds reached. */
export function starLevel(hours: number, thresholds: readonly number[] = VOLUNTEER_DEFAULTS.starHours): number {
  return thresholds.filter((t) => hours >= t).length;
}

export interface VolunteerTotals {
  approvedMinutes: number;
  hours: number;
  points: number;
  stars: number;
  /** Hours still needed for the next star, or null at the top level. */
  hoursToNextStar: number | null;
  tasksServed: number;
}

export const minutesToHours = (minutes: number) => Math.round((minutes / 60) * 100) / 100;

/** Approved hours, points and stars, from the approved assignments (the source of truth). */
export async function volunteerTotals(volunteer: Types.ObjectId, rules: Pick<VolunteerRules, 'starHours'> = VOLUNTEER_DEFAULTS): Promise<VolunteerTotals> {
  const approved = await VolunteerAssignment.find({ volunteer, status: 'approved' }).select('approvedMinutes points').lean();
  return totalsOfApproved(approved, rules);
}

/** The totals of a volunteer's approved assignments (already read). */
export function totalsOfApproved(
  approved: ReadonlyArray<{ approvedMinutes?: number | null; points?: number | null }>,
  rules: Pick<VolunteerRules, 'starHours'> = VOLUNTEER_DEFAULTS,
): VolunteerTotals {
  const approvedMinutes = approved.reduce((sum, a) => sum + (a.approvedMinutes ?? 0), 0);
  const hours = minutesToHours(approvedMinutes);
  const stars = starLevel(approvedMinutes / 60, rules.starHours);
  const next = rules.starHours[stars];
  return {
    approvedMinutes,
    hours,
    points: approved.reduce((sum, a) => sum + (a.points ?? 0), 0),
    stars,
    hoursToNextStar: next === undefined ? null : minutesToHours(next * 60 - approvedMinutes),
    tasksServed: approved.length,
  };
}

/** Staff's list of volunteers of a community: registered (pending), verified, or suspended. */
export async function listVolunteers(community: Types.ObjectId | undefined, state: 'pending' | 'verified' | 'suspended' | undefined, limit: number, offset: number) {
  const filter: Record<string, unknown> = { roles: 'volunteer', status: trusted({ $ne: 'anonymised' }) };
  if (community) filter.community = community;
  if (state === 'pending') filter['volunteer.verified'] = trusted({ $ne: true });
  if (state === 'verified') filter['volunteer.verified'] = true;
  if (state === 'suspended') filter['volunteer.suspendedAt'] = trusted({ $exists: true });
  // A page and its total read once per change to any person (the read cache's generation), as
  // the residents list: FerretDB v1 sorts and counts in Go, decoding every volunteer of the
  // community twice per view.
  const key = `volunteers:${community ? String(community) : 'all'}:${JSON.stringify([state ?? null, offset, limit])}`;
  return cachedRead(key, ['Person'], async () => {
    const [items, total] = await Promise.all([
      Person.find(filter).sort({ _id: 1 }).skip(offset).limit(limit).lean<PersonFields[]>(),
      Person.countDocuments(filter),
    ]);
    return { items, total };
  });
}
