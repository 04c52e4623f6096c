import {
  VolunteerAssignment,
  VolunteerTask,
  type FacilityDoc,
  type PersonDoc,
  type VolunteerAssignmentDoc,
  type VolunteerTaskDoc,
  type VolunteerTaskFields,
} from '../../models/index.js';
import type { InferRawDocTypeFromSchema } from 'mongoose';
import { markVolunteerRecordChanged } from '../../src/commands/volunteerRecordStamp.js';

type VolunteerAssignmentFields = InferRawDocTypeFromSchema<(typeof VolunteerAssignment)['schema']>;
import { makeFacility } from './community.js';
import { nextSeq } from './sequence.js';

/**
 * An open elderly-visit task at `facility` (a new centre when omitted), starting in 2 days
 * for 2 hours, for 2 people.
 */
export async function makeTask(
  facility?: FacilityDoc,
  overrides: Partial<VolunteerTaskFields> = {},
): Promise<VolunteerTaskDoc> {
  const owner = facility ?? (await makeFacility());
  const start = overrides.start ?? new Date(Date.now() + 2 * 24 * 3600_000);
  return VolunteerTask.create({
    community: owner.community,
    facility: owner._id,
    type: 'elderly_visit',
    title: `测试探访${nextSeq()}`,
    place: owner.address,
    start,
    end: new Date(start.getTime() + 2 * 3600_000),
    peopleNeeded: 2,
    skillsRequired: ['探访'],
    ...overrides,
  });
}

/**
 * A volunteer's assignment in a given state, written directly (for totals, stars and records):
 * `approved` with `minutes` approved, by default. Claims are not taken: use the commands or the
 * API for anything about places or overlap.
 */
export async function makeAssignment(
  task: VolunteerTaskDoc,
  volunteer: PersonDoc,
  overrides: Partial<VolunteerAssignmentFields> = {},
): Promise<VolunteerAssignmentDoc> {
  const assignment = await VolunteerAssignment.create({
    task: task._id,
    volunteer: volunteer._id,
    community: task.community,
    facility: task.facility,
    start: task.start,
    end: task.end,
    assignedBy: volunteer._id,
    status: 'approved',
    checkedInAt: task.start,
    checkedOutAt: task.end,
    attendedMinutes: (task.end.getTime() - task.start.getTime()) / 60_000,
    hoursEligible: true,
    approvedMinutes: (task.end.getTime() - task.start.getTime()) / 60_000,
    points: 0,
    ...overrides,
  });
  // As every command that changes an assignment does: the volunteer's stored record is stale.
  await markVolunteerRecordChanged(volunteer._id);
  return assignment;
}
