import {
  Identity,
  Person,
  ProxyLink,
  hashPassword,
  type CommunityDoc,
  type IdentityDoc,
  type PersonDoc,
  type PersonFields,
  type ProxyLinkDoc,
  type ProxyLinkFields,
} from '../../models/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import { makeCommunity } from './community.js';
import { fakePhone, nextSeq } from './sequence.js';

/** 00:00 Asia/Shanghai of the day `years` years (and `days` days) before `now`. */
export function bornYearsAgo(years: number, now = new Date(), days = 10): Date {
  const day = dayjs.utc(shanghaiDay(now)).subtract(years, 'year').subtract(days, 'day').format('YYYY-MM-DD');
  return atShanghai(day, '00:00');
}

type PersonOverrides = Partial<PersonFields> & { community?: CommunityDoc | PersonFields['community'] };

function communityId(c: PersonOverrides['community']) {
  return c && 'code' in c ? c._id : c;
}

/** An active resident (70 years old unless overridden), in a new community unless given one. */
export async function makeResident(overrides: PersonOverrides = {}): Promise<PersonDoc> {
  const { community, ...rest } = overrides;
  const n = nextSeq();
  return Person.create({
    community: communityId(community) ?? (await makeCommunity())._id,
    name: `测试居民${n}`,
    phone: fakePhone(),
    birthDate: bornYearsAgo(70),
    address: { building: `${(n % 9) + 1}栋`, unit: '1单元', room: `${100 + n}` },
    grid: '第一网格',
    roles: ['resident'],
    status: 'active',
    ...rest,
  });
}

/** A verified volunteer with skills 送餐 and 探访. */
export function makeVolunteer(overrides: PersonOverrides = {}): Promise<PersonDoc> {
  return makeResident({
    birthDate: bornYearsAgo(45),
    roles: ['resident', 'volunteer'],
    volunteer: { skills: ['送餐', '探访'], verified: true, verifiedAt: new Date() },
    ...overrides,
  });
}

/** A staff member (no birth date) scoped to the community, with a staff_password identity when `password` is given. */
export async function makeStaff(
  overrides: PersonOverrides = {},
  login?: { username?: string; password: string },
): Promise<{ person: PersonDoc; identity?: IdentityDoc }> {
  const community = communityId(overrides.community) ?? (await makeCommunity())._id;
  const person = await makeResident({
    birthDate: undefined,
    address: undefined,
    grid: undefined,
    roles: ['staff'],
    staffScope: { community },
    ...overrides,
    community,
  });
  if (!login) return { person };
  const identity = await makeIdentity(person, {
    provider: 'staff_password',
    subject: login.username ?? `staff${nextSeq()}`,
    passwordHash: await hashPassword(login.password),
  });
  return { person, identity };
}

export function makeIdentity(
  person: PersonDoc,
  fields: { provider?: IdentityDoc['provider']; subject?: string; passwordHash?: string } = {},
): Promise<IdentityDoc> {
  return Identity.create({ provider: 'wechat_bot', subject: `contact-${nextSeq()}`, person: person._id, ...fields });
}

/** An active 代办 link from `proxy` to `elder`. */
export function makeProxyLink(
  proxy: PersonDoc,
  elder: PersonDoc,
  overrides: Partial<ProxyLinkFields> = {},
): Promise<ProxyLinkDoc> {
  return ProxyLink.create({
    proxy: proxy._id,
    elder: elder._id,
    relation: '子女',
    status: 'active',
    confirmedBy: 'elder',
    confirmedAt: new Date(),
    ...overrides,
  });
}
