import type { PersonFields } from '../../models/person.js';
import type { TimeBankEntryDoc } from '../../models/timeBankEntry.js';
import type { VolunteerAbsenceDoc } from '../../models/volunteerAbsence.js';
import type { VolunteerAssignmentDoc } from '../../models/volunteerAssignment.js';
import { VolunteerTask, type VolunteerTaskDoc } from '../../models/volunteerTask.js';
import type { AuthUser } from '../auth/user.js';
import { ASSIGNMENT_LABELS } from '../commands/volunteerAssignments.js';
import { TASK_TYPE_LABELS } from '../commands/volunteerTasks.js';
import { availabilityFromStored, isSuspended, minutesToHours, type VolunteerTotals } from '../commands/volunteers.js';
import { can, seesFullPhone } from '../policies/index.js';
import { recordOf } from '../policies/policy.js';
import { maskPhone } from './person.js';
import { idOf, listOf } from './fields.js';

/** A volunteer's profile as they and staff see it; the phone masked as the person policy says. */
export function presentVolunteer(p: PersonFields, viewer: AuthUser, totals?: VolunteerTotals, now = new Date()) {
  const v = p.volunteer;
  return {
    id: idOf(p._id),
    name: p.name ?? null,
    phone: seesFullPhone(viewer, p) ? p.phone ?? null : maskPhone(p.phone),
    community: p.community ? idOf(p.community) : null,
    skills: [...(v?.skills ?? [])],
    availability: (v?.availability ?? []).map(availabilityFromStored),
    availabilityNote: v?.availabilityNote ?? null,
    photoUrl: v?.photoUrl ?? null,
    registeredAt: v?.registeredAt ?? null,
    verified: !!v?.verified,
    verifiedAt: v?.verifiedAt ?? null,
    suspended: isSuspended(p, now),
    suspendedUntil: v?.suspendedAt ? v.suspendedUntil ?? null : null,
    suspendedReason: v?.suspendedAt ? v.suspendedReason ?? null : null,
    ...(totals ? { totals: { hours: totals.hours, points: totals.points, stars: totals.stars, hoursToNextStar: totals.hoursToNextStar, tasksServed: totals.tasksServed } } : {}),
  };
}

/**
 * A task. The on-site code and the elder a visit is for are for the task's staff only (the
 * code is given on site; the address of a visit after claiming, by staff).
 */
export function presentTask(t: VolunteerTaskDoc, viewer: AuthUser, mine?: VolunteerAssignmentDoc | null) {
  // A lean or cached task is marked for the policy; a document already names its model.
  const staff = can(viewer, 'manage', t instanceof VolunteerTask ? t : recordOf(VolunteerTask, { ...t }));
  return {
    id: idOf(t._id),
    community: idOf(t.community),
    facility: t.facility ? idOf(t.facility) : null,
    type: t.type,
    typeLabel: TASK_TYPE_LABELS[t.type],
    title: t.title,
    description: t.description ?? '',
    place: t.place,
    start: t.start,
    end: t.end,
    peopleNeeded: t.peopleNeeded,
    claimed: t.claimedCount,
    remaining: Math.max(0, t.peopleNeeded - t.claimedCount),
    skillsRequired: listOf(t.skillsRequired),
    status: t.status,
    source: t.source ?? (t.createdBy ? 'staff' : null),
    cancelReason: t.cancelReason ?? null,
    ...(staff ? { siteCode: t.siteCode, visitFor: t.visitFor ? idOf(t.visitFor) : null } : {}),
    ...(mine !== undefined ? { myAssignment: mine ? { id: String(mine._id), status: mine.status } : null } : {}),
  };
}

export function presentAssignment(a: VolunteerAssignmentDoc, task?: Pick<VolunteerTaskDoc, 'title' | 'place' | 'type'> | null) {
  return {
    id: idOf(a._id),
    task: idOf(a.task),
    volunteer: idOf(a.volunteer),
    ...(task ? { taskTitle: task.title, place: task.place, type: task.type } : {}),
    start: a.start,
    end: a.end,
    status: a.status,
    statusLabel: ASSIGNMENT_LABELS[a.status],
    assignedBy: idOf(a.assignedBy),
    checkedInAt: a.checkedInAt ?? null,
    checkedOutAt: a.checkedOutAt ?? null,
    attendedHours: a.attendedMinutes === undefined || a.attendedMinutes === null ? null : minutesToHours(a.attendedMinutes),
    hoursEligible: a.hoursEligible ?? null,
    approvedHours: a.approvedMinutes === undefined || a.approvedMinutes === null ? null : minutesToHours(a.approvedMinutes),
    points: a.points ?? null,
    declineReason: a.declineReason ?? null,
    reviewedAt: a.reviewedAt ?? null,
    flag: a.flag?.reason ? { reason: a.flag.reason, at: a.flag.at } : null,
  };
}

export function presentLedgerEntry(e: TimeBankEntryDoc) {
  return {
    seq: e.seq,
    kind: e.kind,
    hours: minutesToHours(e.minutes),
    balanceHours: minutesToHours(e.balanceAfter),
    reason: e.reason ?? null,
    service: e.service ?? null,
    beneficiary: e.beneficiary ? idOf(e.beneficiary) : null,
    assignment: e.assignment ? idOf(e.assignment) : null,
    at: e.at,
  };
}

export function presentAbsence(a: VolunteerAbsenceDoc) {
  return {
    id: idOf(a._id),
    volunteer: idOf(a.volunteer),
    assignment: idOf(a.assignment),
    task: idOf(a.task),
    kind: a.kind,
    at: a.at,
    year: a.year,
    excused: a.excused,
    excuseReason: a.excuseReason ?? null,
  };
}
