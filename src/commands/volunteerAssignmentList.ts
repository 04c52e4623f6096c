import { trusted, type Types } from 'mongoose';
import { VolunteerAssignment, type VolunteerAssignmentDoc, type VolunteerAssignmentStatus } from '../../models/volunteerAssignment.js';
import { shanghaiDay } from '../../models/calendar.js';
import { widenListHorizon } from './listHorizon.js';
import { listOwn, type OwnListPage } from './monthWalk.js';

const monthOf = (a: { month?: string | null; start: Date }) => a.month ?? shanghaiDay(a.start).slice(0, 7);

/**
 * A page of a volunteer's own assignments, optionally of one status: `upcoming` (tasks from today
 * on, soonest first) or `past` (newest first), after the cursor and `offset`. Read a month at a
 * time (`{volunteer, month[, status]}` equality), so a page costs the months it shows, not a year
 * of assignments.
 */
export function listMyAssignments(
  volunteer: Types.ObjectId, q: OwnListPage & { status?: VolunteerAssignmentStatus },
): Promise<{ items: VolunteerAssignmentDoc[]; next: string | null }> {
  const status = q.status ? { status: q.status } : {};
  return listOwn({
    list: 'volunteer-assignments',
    owner: volunteer,
    readMonth: (month) => VolunteerAssignment.find({ volunteer, month, ...status }),
    // The first read (to learn the horizon) needs every status's months.
    readAll: () => VolunteerAssignment.find({ volunteer }),
    keep: (a) => !q.status || a.status === q.status,
    monthOf,
  }, q);
}

/** After an assignment is created: the volunteer's list covers its month. */
export const assignmentListed = (a: { volunteer: Types.ObjectId; start: Date }) =>
  widenListHorizon('volunteer-assignments', a.volunteer, monthOf({ start: a.start }));

/** Past this many distinct months on a page of tasks, one `task: $in` read is fewer round trips. */
const MONTHS_PER_PAGE = 6;

/**
 * The volunteer's latest assignment (by creation) on each task of a page, for the task list's
 * `myAssignment`: read by `{volunteer, month}` for the months the tasks start in (an
 * assignment's start is its task's), so the read is bounded by those months; `task: $in` decoded
 * every assignment the volunteer ever had.
 */
export async function myAssignmentsOnTasks(
  volunteer: Types.ObjectId, tasks: ReadonlyArray<{ _id: Types.ObjectId; start: Date }>,
): Promise<Map<string, VolunteerAssignmentDoc>> {
  const byTask = new Map<string, VolunteerAssignmentDoc>();
  if (!tasks.length) return byTask;
  const wanted = new Set(tasks.map((t) => String(t._id)));
  const months = [...new Set(tasks.map((t) => monthOf(t)))];
  const read = months.length > MONTHS_PER_PAGE
    ? await VolunteerAssignment.find({ volunteer, task: trusted({ $in: tasks.map((t) => t._id) }) })
    : (await Promise.all(months.map((month) => VolunteerAssignment.find({ volunteer, month })))).flat();
  const mine = read.filter((a) => wanted.has(String(a.task))).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  for (const a of mine) if (!byTask.has(String(a.task))) byTask.set(String(a.task), a);
  return byTask;
}
