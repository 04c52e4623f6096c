/**
 * The demo's volunteers (志愿服务). demo.ts already seeds the verified volunteer 吴海燕 and one
 * open task of each type; this adds two more verified volunteers (so the tasks that need 托育
 * or no skill at all have someone), one registration waiting for staff, 吴海燕's weekly
 * availability, and her time-bank opening balance (hours served before the system existed).
 * Idempotent like the rest of the seed.
 */
import type { Model, Types } from 'mongoose';
import { atShanghai, dayjs } from '../../models/calendar.js';
import { Person } from '../../models/person.js';
import { TimeBankEntry } from '../../models/timeBankEntry.js';
import { isDuplicateKey } from '../storage/mongo.js';

interface Ensured {
  _id: Types.ObjectId;
  created: boolean;
}

export interface VolunteerSeedContext {
  community: Types.ObjectId;
  staff: Types.ObjectId;
  today: string;
  now: Date;
  /** demo.ts's upsert-if-missing, and its counter of created persons. */
  ensure: (model: Model<any>, filter: Record<string, unknown>, fields: Record<string, unknown>) => Promise<Ensured>;
  countPerson: (ensured: Ensured) => Types.ObjectId;
}

const bornBefore = (today: string, years: number, days: number) =>
  atShanghai(dayjs.utc(today).subtract(years, 'year').subtract(days, 'day').format('YYYY-MM-DD'), '00:00');

export async function seedVolunteers({ community, staff, today, now, ensure, countPerson }: VolunteerSeedContext): Promise<void> {
  const verifiedAt = dayjs(now).subtract(60, 'day').toDate();
  const person = async (phone: string, fields: Record<string, unknown>) =>
    countPerson(await ensure(Person, { phone }, { community, status: 'active', roles: ['resident', 'volunteer'], ...fields }));

  await person('13800000031', {
    name: '林国栋',
    gender: '男',
    birthDate: bornBefore(today, 55, 40),
    address: { building: '4栋', unit: '1单元', room: '702' },
    grid: '第二网格',
    volunteer: {
      skills: ['送餐', '探访', '场地布置'],
      availability: ['1 08:00-12:00', '3 08:00-12:00', '5 08:00-12:00'],
      availabilityNote: '工作日上午',
      registeredAt: dayjs(verifiedAt).subtract(3, 'day').toDate(),
      verified: true,
      verifiedAt,
      verifiedBy: staff,
    },
  });
  await person('13800000032', {
    name: '张雨婷',
    gender: '女',
    birthDate: bornBefore(today, 35, 200),
    address: { building: '7栋', unit: '2单元', room: '1203' },
    grid: '第三网格',
    volunteer: {
      skills: ['托育', '活动组织'],
      availability: ['6 09:00-17:00', '0 09:00-17:00'],
      availabilityNote: '周末全天',
      registeredAt: dayjs(verifiedAt).subtract(1, 'day').toDate(),
      verified: true,
      verifiedAt,
      verifiedBy: staff,
    },
  });
  // Registered yesterday, waiting for staff to verify (GET /volunteers?state=pending).
  await person('13800000033', {
    name: '何志明',
    gender: '男',
    birthDate: bornBefore(today, 47, 15),
    address: { building: '1栋', unit: '1单元', room: '401' },
    grid: '第一网格',
    volunteer: { skills: ['探访'], availability: ['2 14:00-18:00'], registeredAt: dayjs(now).subtract(1, 'day').toDate(), verified: false },
  });

  // 吴海燕 (seeded by demo.ts): her availability, once, and her hours from before the system.
  const wu = await Person.findOne({ phone: '13800000007', community }).select('_id volunteer').lean();
  if (!wu) return;
  if (!wu.volunteer?.availability?.length) {
    await Person.updateOne({ _id: wu._id }, {
      $set: { 'volunteer.availability': ['2 09:00-12:00', '4 09:00-12:00'], 'volunteer.registeredAt': wu.volunteer?.verifiedAt ?? now },
    });
  }
  try {
    await TimeBankEntry.create({
      volunteer: wu._id, seq: 1, kind: 'adjusted', minutes: 12 * 60, balanceAfter: 12 * 60,
      reason: '迁移线下登记的服务时长', by: staff, at: now,
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}
