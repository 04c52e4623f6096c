import { Types, trusted } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import type { PersonFields } from '../../models/person.js';
import {
  HOLDING_ASSIGNMENT_STATUSES, VolunteerAssignment, type VolunteerAssignmentDoc, type VolunteerAssignmentStatus,
} from '../../models/volunteerAssignment.js';
import { VolunteerTask, type VolunteerTaskDoc } from '../../models/volunteerTask.js';
import type { AuthUser } from '../auth/user.js';
import { releaseClaims, transitionOnce, withClaims } from '../booking/claims.js';
import type { Transitions } from '../booking/stateMachine.js';
import { failpoint } from '../runtime/failpoints.js';
import { rangeLabel } from '../booking/time.js';
import { VOLUNTEER_DEFAULTS } from '../config.js';
import { AppError, BookingRuleError, ConflictError, NotFoundError } from '../errors.js';
import { notify } from './notify.js';
import { earnTimeBank } from './timeBank.js';
import { assertCanVolunteer, recordAbsence, type VolunteerRules } from './volunteers.js';
import { syncTaskCount, taskPlacesKey, taskVolunteerKey, volunteerTimeKey, volunteerUnits } from './volunteerTasks.js';
import { withdrawVolunteerReminders } from './volunteerReminders.js';
import { markDaysChanged } from './dailyFigures.js';
import { markVolunteerRecordChanged } from './volunteerRecordStamp.js';
import { assignmentListed } from './volunteerAssignmentList.js';

export const ASSIGNMENT_TRANSITIONS: Transitions<VolunteerAssignmentStatus> = {
  claimed: ['checked_in', 'released', 'unassigned', 'absent', 'cancelled'],
  checked_in: ['checked_out', 'cancelled'],
  checked_out: ['approved', 'declined'],
  approved: [],
  declined: [],
  released: [],
  unassigned: [],
  absent: [],
  cancelled: [],
};

export const ASSIGNMENT_LABELS: Record<VolunteerAssignmentStatus, string> = {
  claimed: '已认领', checked_in: '已签到', checked_out: '已签退', approved: '时长已确认', declined: '时长未通过',
  released: '已退出', unassigned: '已取消指派', absent: '缺勤', cancelled: '任务已取消',
};

export async function findAssignment(id: string): Promise<VolunteerAssignmentDoc> {
  const assignment = Types.ObjectId.isValid(id) ? await VolunteerAssignment.findById(id) : null;
  if (!assignment) throw NotFoundError('没有找到这条志愿服务记录');
  return assignment;
}

/**
 * Moves an assignment once (a `state:<id>` claim per version, see stateMachine.ts), with our own
 * message for a move its status does not allow.
 */
async function transition(
  a: VolunteerAssignmentDoc, to: VolunteerAssignmentStatus, by: Types.ObjectId | string, reason?: string, extra: Record<string, unknown> = {},
): Promise<VolunteerAssignmentDoc> {
  if (!ASSIGNMENT_TRANSITIONS[a.status].includes(to)) {
    throw ConflictError(`这条志愿服务当前为「${ASSIGNMENT_LABELS[a.status]}」，不能改为「${ASSIGNMENT_LABELS[to]}」`, 'invalid_transition');
  }
  try {
    await transitionOnce(a, to, ASSIGNMENT_TRANSITIONS, by, reason,
      (update) => VolunteerAssignment.updateOne({ _id: a._id }, { ...update, $set: { ...update.$set, ...extra } }));
  } catch (err) {
    if ((err as AppError).code === 'booking_changed') throw ConflictError('这条志愿服务刚刚被其他操作修改，请刷新后重试', 'assignment_changed');
    throw err;
  }
  // Approved minutes are the staff reports' volunteer hours of the task's day.
  if (to === 'approved' || a.status === 'approved') await markDaysChanged(a.community, a.start);
  // The volunteer's service record lists the assignment from checked_out on (its read model).
  await markVolunteerRecordChanged(a.volunteer);
  if (!HOLDING_ASSIGNMENT_STATUSES.includes(to) && HOLDING_ASSIGNMENT_STATUSES.includes(a.status) && to !== 'checked_out') {
    await releaseClaims(a._id);
    await syncTaskCount(a.task);
    await withdrawVolunteerReminders(a);
  }
  return (await VolunteerAssignment.findById(a._id))!;
}

/**
 * Puts a volunteer on a task: the volunteer claims it, or staff assign them (`by` is then the
 * staff member). Checks first: the task is open and not started, the volunteer is verified and
 * not suspended, of the task's community, and has every skill it requires. Then three unique
 * claims, each held by the new assignment's id: one per volunteer and task
 * (`task-volunteer:<task>:<volunteer>`), the volunteer's 15-minute units of the task's time
 * (`volunteer-time:<volunteer>`, so two tasks that overlap cannot both be held), and one of the
 * task's places (`task:<task>`, claimPlaces). Whatever fails gives back what this call took.
 */
export async function claimVolunteerTask(
  task: VolunteerTaskDoc, volunteer: PersonFields, by: AuthUser, now = new Date(),
): Promise<VolunteerAssignmentDoc> {
  if (task.status === 'cancelled') throw BookingRuleError(409, 'task_closed', '该任务已取消');
  if (task.start <= now) throw BookingRuleError(409, 'task_started', '该任务已经开始或结束，不能再认领');
  assertCanVolunteer(volunteer, now);
  if (String(volunteer.community) !== String(task.community)) {
    throw BookingRuleError(403, 'other_community', '该任务属于其他社区，请认领本社区的任务');
  }
  const have = new Set(volunteer.volunteer?.skills ?? []);
  const missing = task.skillsRequired.filter((s) => !have.has(s));
  if (missing.length) {
    throw BookingRuleError(403, 'skills_missing', `该任务需要「${missing.join('、')}」技能，${by.id === String(volunteer._id) ? '您' : '该志愿者'}的志愿者资料中还没有`);
  }

  const id = new Types.ObjectId();
  // Before the insert: the volunteer's list may then read a month too many, never miss one.
  await assignmentListed({ volunteer: volunteer._id, start: task.start });
  const assignment = await withClaims(async (claims) => {
    const one = await claims.claimAll(taskVolunteerKey(task._id, volunteer._id), [0], id);
    if (!one.ok) throw BookingRuleError(409, 'already_claimed', by.id === String(volunteer._id) ? '您已认领了这个任务' : '该志愿者已在这个任务中');
    failpoint('volunteers.claim.afterOne');
    const time = await claims.claimAll(volunteerTimeKey(volunteer._id), volunteerUnits(task.start, task.end), id);
    if (!time.ok) {
      const holder = await CapacityClaim.findOne({ key: volunteerTimeKey(volunteer._id), slot: time.taken[0] }).lean();
      const other = holder ? await VolunteerAssignment.findById(holder.holder).lean() : null;
      const otherTask = other ? await VolunteerTask.findById(other.task).select('title start end').lean() : null;
      throw BookingRuleError(409, 'task_overlap', otherTask
        ? `与已认领的「${otherTask.title}」（${rangeLabel(otherTask.start, otherTask.end)}）时间重叠`
        : '与已认领的其他任务时间重叠');
    }
    failpoint('volunteers.claim.afterTime');
    const place = await claims.claimPlaces(taskPlacesKey(task._id), task.peopleNeeded, 1, id);
    if (!place) {
      await syncTaskCount(task._id);
      throw BookingRuleError(409, 'task_full', '该任务名额已满，请看看其他任务');
    }
    failpoint('volunteers.claim.afterPlace');
    const created = await VolunteerAssignment.create({
      _id: id,
      task: task._id,
      volunteer: volunteer._id,
      community: task.community,
      facility: task.facility,
      start: task.start,
      end: task.end,
      assignedBy: by.person._id,
      status: 'claimed',
      history: [{ from: null, to: 'claimed', at: now, by: by.person._id }],
    });
    claims.commit();
    return created;
  });
  // A cancel that raced this claim: it set the status before or after our read; if before, we
  // see it now; if after, its sweep (which follows the status change) sees this assignment.
  const fresh = await VolunteerTask.findById(task._id).select('status').lean();
  if (fresh?.status === 'cancelled') {
    await transition(assignment, 'cancelled', by.person._id, 'task cancelled');
    throw BookingRuleError(409, 'task_closed', '该任务已取消');
  }
  await syncTaskCount(task._id);
  if (by.id !== String(volunteer._id)) {
    await notify(volunteer._id, `volunteer-assignment:${id}:assigned`, 'volunteer_assigned',
      `工作人员为您安排了志愿任务「${task.title}」（${rangeLabel(task.start, task.end)}，${task.place}），如不能参加请尽早在小程序中退出。`);
  }
  return assignment;
}

/**
 * The volunteer gives a claimed task back. Until the cut-off (RELEASE_CUTOFF_HOURS before the
 * start) it is free; later it still releases the place but counts as an absence (and may
 * suspend the volunteer).
 */
export async function releaseAssignment(
  a: VolunteerAssignmentDoc, by: AuthUser, rules: VolunteerRules = VOLUNTEER_DEFAULTS, now = new Date(),
): Promise<{ assignment: VolunteerAssignmentDoc; late: boolean; suspended: boolean }> {
  if (a.status === 'claimed' && a.end <= now) throw BookingRuleError(409, 'task_ended', '该任务已经结束，不能再退出');
  const late = now.getTime() > a.start.getTime() - rules.releaseCutoffHours * 3600_000;
  const assignment = await transition(a, 'released', by.person._id, late ? 'late release' : undefined);
  const absence = late ? await recordAbsence(a, 'late_release', rules, now) : { suspended: false };
  return { assignment, late, suspended: absence.suspended };
}

/** Staff take a volunteer off a task (no absence), telling them why. */
export async function unassignVolunteer(a: VolunteerAssignmentDoc, by: AuthUser, reason: string): Promise<VolunteerAssignmentDoc> {
  const assignment = await transition(a, 'unassigned', by.person._id, reason);
  const task = await VolunteerTask.findById(a.task).select('title start end').lean();
  await notify(a.volunteer, `volunteer-assignment:${a._id}:unassigned`, 'volunteer_unassigned',
    `工作人员取消了您在「${task?.title ?? '志愿任务'}」（${rangeLabel(a.start, a.end)}）的安排，原因：${reason}。`);
  return assignment;
}

/** Check-in with the task's on-site code, from CHECK_IN_OPENS_MINUTES before the start until the end. */
export async function checkInAssignment(
  a: VolunteerAssignmentDoc, task: VolunteerTaskDoc, code: string, by: AuthUser, rules: VolunteerRules = VOLUNTEER_DEFAULTS, now = new Date(),
): Promise<VolunteerAssignmentDoc> {
  if (task.status === 'cancelled') throw BookingRuleError(409, 'task_closed', '该任务已取消');
  if (code !== task.siteCode) throw BookingRuleError(400, 'site_code_invalid', '签到码不正确，请向现场工作人员核对任务签到码');
  if (now.getTime() < a.start.getTime() - rules.checkInOpensMinutes * 60_000 || now >= a.end) {
    throw BookingRuleError(409, 'check_in_not_open',
      `签到时间为任务开始前 ${rules.checkInOpensMinutes} 分钟至结束（${rangeLabel(a.start, a.end)}）`);
  }
  return transition(a, 'checked_in', by.person._id, undefined, { checkedInAt: now });
}

/** Minutes of [from, to) that fall inside [start, end). */
export function overlapMinutes(from: Date, to: Date, start: Date, end: Date): number {
  const ms = Math.min(to.getTime(), end.getTime()) - Math.max(from.getTime(), start.getTime());
  return Math.max(0, Math.floor(ms / 60_000));
}

/** Whether attended minutes cover the minimum share of the planned time (hours count). */
export function attendanceCounts(attendedMinutes: number, start: Date, end: Date, minPercent: number): boolean {
  const plannedMinutes = (end.getTime() - start.getTime()) / 60_000;
  return attendedMinutes * 100 >= plannedMinutes * minPercent;
}

/**
 * Check-out: attended time is the overlap of presence (check-in to check-out) with the planned
 * time; hours count only if it covers MIN_ATTENDANCE_PERCENT of the planned time. `auto`: the
 * sweep checks out at the planned end and flags it for staff.
 */
export async function checkOutAssignment(
  a: VolunteerAssignmentDoc, by: Types.ObjectId | string, rules: VolunteerRules = VOLUNTEER_DEFAULTS, now = new Date(), auto = false,
): Promise<VolunteerAssignmentDoc> {
  if (a.status === 'checked_in' && !auto && now < a.checkedInAt!) throw BookingRuleError(409, 'check_out_too_early', '签退时间不能早于签到时间');
  const at = auto ? a.end : now;
  const checkedInAt = a.checkedInAt ?? a.start;
  const attendedMinutes = overlapMinutes(checkedInAt, at, a.start, a.end);
  const hoursEligible = attendanceCounts(attendedMinutes, a.start, a.end, rules.minAttendancePercent);
  return transition(a, 'checked_out', by, auto ? 'auto check-out' : undefined, {
    checkedOutAt: at,
    attendedMinutes,
    hoursEligible,
    ...(auto ? { flag: { reason: 'auto_check_out', at: now } } : {}),
  });
}

/**
 * Staff approve the hours of a checked-out volunteer whose attendance counts: the hours (the
 * attended time, or fewer if staff say so) and points are credited, and the time bank earns
 * them. The approval is a one-time transition, so the credit is written once.
 */
export async function approveHours(
  a: VolunteerAssignmentDoc, by: AuthUser, minutes: number | undefined, rules: VolunteerRules = VOLUNTEER_DEFAULTS, now = new Date(),
): Promise<VolunteerAssignmentDoc> {
  if (a.status === 'checked_out' && !a.hoursEligible) {
    throw BookingRuleError(409, 'attendance_too_short',
      `实际在岗时间不足计划时长的 ${rules.minAttendancePercent}%，时长不能计入；如需记录原因请选择「不通过」`);
  }
  const attended = a.attendedMinutes ?? 0;
  if (minutes !== undefined && minutes > attended) {
    throw BookingRuleError(400, 'hours_above_attended', `确认的时长不能超过实际在岗时长（${attended} 分钟）`);
  }
  const approvedMinutes = minutes ?? attended;
  const points = Math.round((approvedMinutes / 60) * rules.pointsPerHour);
  const assignment = await transition(a, 'approved', by.person._id, undefined, {
    approvedMinutes, points, reviewedBy: by.person._id, reviewedAt: now,
  });
  if (approvedMinutes > 0) await earnTimeBank(a.volunteer, approvedMinutes, a._id, by.person._id, now);
  return assignment;
}

/** Staff decline the hours, with a reason the volunteer is told; the entry stays on record. */
export async function declineHours(a: VolunteerAssignmentDoc, by: AuthUser, reason: string, now = new Date()): Promise<VolunteerAssignmentDoc> {
  const assignment = await transition(a, 'declined', by.person._id, reason, { declineReason: reason, reviewedBy: by.person._id, reviewedAt: now });
  await notify(a.volunteer, `volunteer-assignment:${a._id}:declined`, 'volunteer_hours_declined',
    `您在 ${rangeLabel(a.start, a.end)} 的志愿服务时长未通过审核，原因：${reason}。如有疑问请联系社区工作人员。`);
  return assignment;
}

/**
 * Cancels a task (staff, with a reason): every volunteer on it is taken off (no absence) and
 * told. The status changes first, so a claim racing the cancel either sees it or is swept here.
 */
export async function cancelVolunteerTask(task: VolunteerTaskDoc, by: AuthUser, reason: string, now = new Date()): Promise<VolunteerTaskDoc> {
  if (task.status === 'cancelled') throw ConflictError('该任务已经取消', 'task_closed');
  if (task.end <= now) throw BookingRuleError(409, 'task_ended', '该任务已经结束，不能取消');
  await VolunteerTask.updateOne({ _id: task._id }, { $set: { status: 'cancelled', cancelledAt: now, cancelReason: reason } });
  const onIt = await VolunteerAssignment.find({ task: task._id, status: trusted({ $in: HOLDING_ASSIGNMENT_STATUSES }) });
  for (const a of onIt) {
    try {
      await transition(a, 'cancelled', by.person._id, reason);
    } catch (err) {
      if ((err as AppError).status !== 409) throw err;
      continue;
    }
    await notify(a.volunteer, `volunteer-task:${task._id}:cancelled:${a.volunteer}`, 'volunteer_task_cancelled',
      `志愿任务「${task.title}」（${rangeLabel(task.start, task.end)}）已取消，原因：${reason}。感谢您的支持！`);
  }
  return (await VolunteerTask.findById(task._id))!;
}

/**
 * The sweep after tasks (a job calls it; safe to re-run, on any number of instances): a
 * volunteer still checked in AUTO_CHECK_OUT_HOURS after the end is checked out at the planned
 * end and flagged for staff; one who claimed and never checked in is marked absent (counted
 * once). A bounded batch, oldest first.
 */
export async function autoCheckOut(
  now = new Date(), limit = 500, rules: VolunteerRules = VOLUNTEER_DEFAULTS,
): Promise<{ checkedOut: number; absent: number }> {
  const due = await VolunteerAssignment.find({
    status: trusted({ $in: HOLDING_ASSIGNMENT_STATUSES }),
    end: trusted({ $lte: new Date(now.getTime() - rules.autoCheckOutHours * 3600_000) }),
  }).sort({ end: 1 }).limit(limit);
  let checkedOut = 0;
  let absent = 0;
  for (const a of due) {
    try {
      if (a.status === 'checked_in') {
        await checkOutAssignment(a, a.volunteer, rules, now, true);
        checkedOut += 1;
      } else {
        await transition(a, 'absent', a.volunteer, 'no check-in');
        await recordAbsence(a, 'no_show', rules, now);
        absent += 1;
      }
    } catch (err) {
      // Another instance got there first, or the volunteer acted at the last moment.
      if ((err as AppError).status !== 409) throw err;
    }
  }
  return { checkedOut, absent };
}
