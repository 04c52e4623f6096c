import { trusted, type Types } from 'mongoose';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { VolunteerTask } from '../../models/volunteerTask.js';
import { dayLabel, hhmm, rangeLabel } from '../booking/time.js';
import { DAY_AND_HOUR_BEFORE, enqueueReminders, withdrawNotifications } from '../outbox/reminders.js';

/** Tasks starting within this much of now get their reminders enqueued. */
const HORIZON_MS = 25 * 3_600_000;

/**
 * Enqueues the reminders of claimed volunteer tasks starting within 25 hours: 24 hours and
 * 1 hour before, each stale once the task starts. Repeated runs add nothing (unique keys).
 */
export async function enqueueVolunteerReminders(now: Date): Promise<{ assignments: number; enqueued: number }> {
  const assignments = await VolunteerAssignment.find({
    status: 'claimed',
    start: trusted({ $gt: now, $lte: new Date(now.getTime() + HORIZON_MS) }),
  }, { task: 1, volunteer: 1, start: 1, end: 1, createdAt: 1 }).lean();
  if (!assignments.length) return { assignments: 0, enqueued: 0 };
  const tasks = await VolunteerTask.find({ _id: trusted({ $in: [...new Set(assignments.map((a) => String(a.task)))] }) }, { title: 1, place: 1 }).lean();
  const byId = new Map(tasks.map((t) => [String(t._id), t]));
  const { enqueued } = await enqueueReminders(assignments.map((a) => {
    const task = byId.get(String(a.task));
    const what = `「${task?.title ?? '志愿任务'}」（${task?.place ?? ''}）`;
    return {
      person: a.volunteer,
      keyBase: `volunteer-assignment:${a._id}`,
      kind: 'volunteer_task_reminder',
      start: a.start,
      bookedAt: a.createdAt ?? now,
      text: (suffix: string) => suffix === 'reminder-24h'
        ? `提醒：您报名的志愿任务${what}在 ${rangeLabel(a.start, a.end)}。如不能参加，请尽快在小程序或微信里退出，谢谢！`
        : `提醒：志愿任务${what}将在 ${hhmm(a.start)} 开始（${dayLabel(a.start)}）。到现场后发“我到了”签到。`,
    };
  }), DAY_AND_HOUR_BEFORE, now);
  return { assignments: assignments.length, enqueued };
}

/** An assignment given back (released, unassigned, task cancelled) is not reminded of. */
export function withdrawVolunteerReminders(a: { _id: Types.ObjectId; volunteer: Types.ObjectId }, now = new Date()): Promise<number> {
  return withdrawNotifications(a.volunteer, `volunteer-assignment:${a._id}:reminder-`, now);
}
