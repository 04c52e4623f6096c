import { Community, Facility, type CommunityDoc, type CommunityFields, type FacilityDoc, type FacilityFields } from '../../models/index.js';
import { nextSeq } from './sequence.js';

const EVERY_DAY_8_TO_20 = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open: '08:00', close: '20:00' }));

export async function makeCommunity(overrides: Partial<CommunityFields> = {}): Promise<CommunityDoc> {
  const n = nextSeq();
  return Community.create({ name: `测试社区${n}`, code: `test-${n}`, district: '测试区', ...overrides });
}

/** A facility of `community` (a new community when omitted), open 08:00–20:00 every day. */
export async function makeFacility(
  community?: CommunityDoc,
  overrides: Partial<FacilityFields> = {},
): Promise<FacilityDoc> {
  const owner = community ?? (await makeCommunity());
  const n = nextSeq();
  return Facility.create({
    community: owner._id,
    kind: 'community_centre',
    name: `测试服务中心${n}`,
    address: `测试路${n}号`,
    openingHours: EVERY_DAY_8_TO_20,
    ...overrides,
  });
}

export const makeKitchen = (community?: CommunityDoc, overrides: Partial<FacilityFields> = {}) =>
  makeFacility(community, { kind: 'kitchen', ...overrides });
export const makeChildcareCentre = (community?: CommunityDoc, overrides: Partial<FacilityFields> = {}) =>
  makeFacility(community, { kind: 'childcare_centre', ...overrides });
