import { VolunteerTask, type FacilityDoc, type VolunteerTaskDoc, type VolunteerTaskFields } from '../../models/index.js';
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
