import type { Types } from 'mongoose';
import { VolunteerAssignment, type VolunteerAssignmentDoc, type VolunteerAssignmentStatus } from '../../models/volunteerAssignment.js';
import { shanghaiDay } from '../../models/calendar.js';
import { widenListHorizon } from './listHorizon.js';
import { listNewestFirst } from './monthWalk.js';

const monthOf = (a: { month?: string | null; start: Date }) => a.month ?? shanghaiDay(a.start).slice(0, 7);
const newestFirst = (a: VolunteerAssignmentDoc, b: VolunteerAssignmentDoc) => b.start.getTime() - a.start.getTime();

/**
 * A volunteer's own assignments, newest first (by start), a page of them, optionally of one
 * status: read a month at a time (`{volunteer, month[, status]}` equality) from the furthest
 * month they have one in, so a page costs the months it shows, not a year of assignments.
 */
export async function listMyAssignments(
  volunteer: Types.ObjectId, q: { status?: VolunteerAssignmentStatus; limit: number; offset: number },
): Promise<VolunteerAssignmentDoc[]> {
  const status = q.status ? { status: q.status } : {};
  const page = await listNewestFirst({
    list: 'volunteer-assignments',
    owner: volunteer,
    want: q.offset + q.limit,
    readMonth: (month) => VolunteerAssignment.find({ volunteer, month, ...status }),
    // The first read (to learn the horizon) needs every status's months.
    readAll: () => VolunteerAssignment.find({ volunteer }),
    keep: (a) => !q.status || a.status === q.status,
    monthOf,
    order: newestFirst,
  });
  return page.slice(q.offset);
}

/** After an assignment is created: the volunteer's list covers its month. */
export const assignmentListed = (a: { volunteer: Types.ObjectId; start: Date }) =>
  widenListHorizon('volunteer-assignments', a.volunteer, monthOf({ start: a.start }));
