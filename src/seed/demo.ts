/**
 * The demo community 幸福里社区: facilities, rooms, a week of menus, childcare sessions,
 * volunteer tasks, the Zengcheng subsidy rule and one resident of every kind in PRODUCT.md.
 * Every name is made up and every phone number is in the unassigned-looking 1380000xxxx range.
 *
 * Idempotent: each document is upserted by its natural key with $setOnInsert only, so a
 * re-run creates what is missing and never overwrites what staff have since edited.
 */
import type { Model, Types } from 'mongoose';
import type { Logger } from '../logger.js';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import {
  Community,
  Facility,
  Identity,
  MealMenu,
  Person,
  ProxyLink,
  Room,
  SubsidyRule,
  VolunteerTask,
  hashPassword,
  mealCutoff,
  type DietaryNeed,
  type Meal,
  type OpeningInterval,
} from '../../models/index.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { seedVolunteers } from './volunteers.js';
import { seedChildcare } from './childcare.js';
import { seedMeals } from './meals.js';

export const DEMO_COMMUNITY_CODE = 'demo-xingfuli';
const DEMO_COMMUNITY = { name: '幸福里社区', district: '广州市增城区', dutyPhone: '020-82661234' };
/** Usernames of the demo's staff_password identities. */
export const DEMO_USERNAMES = { staff: 'staff', admin: 'admin' } as const;

/** How many documents of each collection one run created (0 everywhere on a re-run). */
export interface SeedSummary {
  communities: number;
  facilities: number;
  persons: number;
  identities: number;
  proxyLinks: number;
  rooms: number;
  mealMenus: number;
  subsidyRules: number;
  childcareSessions: number;
  children: number;
  volunteerTasks: number;
}

function emptySummary(): SeedSummary {
  return {
    communities: 0,
    facilities: 0,
    persons: 0,
    identities: 0,
    proxyLinks: 0,
    rooms: 0,
    mealMenus: 0,
    subsidyRules: 0,
    childcareSessions: 0,
    children: 0,
    volunteerTasks: 0,
  };
}

interface Ensured {
  _id: Types.ObjectId;
  created: boolean;
}

/**
 * Inserts `fields` (validated and defaulted by the model, hooks included) unless a document
 * matches `filter`. Timestamps are set here, in $setOnInsert, because mongoose's own would
 * $set updatedAt on every run. A duplicate-key error means a concurrent seeder won the race.
 */
async function ensure(model: Model<any>, filter: Record<string, unknown>, fields: Record<string, unknown>): Promise<Ensured> {
  const doc = new model({ ...fields, ...filter });
  await doc.validate();
  const { createdAt: _c, updatedAt: _u, __v: _v, ...values } = doc.toObject({ depopulate: true, virtuals: false, versionKey: false });
  const at = new Date();
  try {
    const res = await model.updateOne(
      filter,
      { $setOnInsert: { ...values, createdAt: at, updatedAt: at } },
      { upsert: true, timestamps: false, setDefaultsOnInsert: false },
    );
    if (res.upsertedCount > 0) return { _id: doc._id as Types.ObjectId, created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const existing = await model.findOne(filter).select('_id').lean<{ _id: Types.ObjectId }>();
  if (!existing) throw new Error(`demo seed: ${model.modelName} neither inserted nor found`);
  return { _id: existing._id, created: false };
}

/* ---------------------------------------------------------------- calendar helpers */

/** Calendar arithmetic on 'YYYY-MM-DD' days (in UTC, so no offset or DST can shift a day). */
function addDays(day: string, n: number): string {
  return dayjs.utc(day).add(n, 'day').format('YYYY-MM-DD');
}
function weekdayOf(day: string): number {
  return dayjs.utc(day).day();
}
/** A birth date `years` years and `days` days before `today`, at Shanghai midnight. */
function bornBefore(today: string, years: number, days: number, unit: 'year' | 'month' = 'year'): Date {
  const day = dayjs.utc(today).subtract(years, unit).subtract(days, 'day').format('YYYY-MM-DD');
  return atShanghai(day, '00:00');
}
/** The next `count` Monday-to-Friday days after `today`. */
function nextWeekdays(today: string, count: number): string[] {
  const days: string[] = [];
  for (let day = addDays(today, 1); days.length < count; day = addDays(day, 1)) {
    const wd = weekdayOf(day);
    if (wd >= 1 && wd <= 5) days.push(day);
  }
  return days;
}
function hours(weekdays: number[], ...intervals: Array<[string, string]>): OpeningInterval[] {
  return weekdays.flatMap((weekday) => intervals.map(([open, close]) => ({ weekday, open, close })));
}
const EVERY_DAY = [0, 1, 2, 3, 4, 5, 6];
const MON_TO_FRI = [1, 2, 3, 4, 5];
const MON_TO_SAT = [1, 2, 3, 4, 5, 6];

/* ---------------------------------------------------------------- demo data */

interface Dish {
  name: string;
  allergens: string[];
  suitableFor: DietaryNeed[];
}
const dish = (name: string, allergens: string[], suitableFor: DietaryNeed[]): Dish => ({ name, allergens, suitableFor });

/** Lunch and dinner sets, rotated over the week. */
const LUNCHES: Dish[][] = [
  [
    dish('清蒸鲈鱼', ['鱼'], ['低盐', '低糖', '低脂', '软食']),
    dish('西红柿炒鸡蛋', ['鸡蛋'], ['低糖', '软食']),
    dish('香菇青菜', [], ['低盐', '低糖', '低脂', '素食']),
    dish('冬瓜排骨汤', [], ['低盐', '低糖']),
  ],
  [
    dish('番茄炖牛腩', [], ['低糖', '软食', '清真']),
    dish('家常豆腐', ['大豆'], ['低糖', '软食', '素食']),
    dish('清炒西兰花', [], ['低盐', '低糖', '低脂', '素食', '清真']),
    dish('紫菜蛋花汤', ['鸡蛋'], ['低糖', '低脂', '软食']),
  ],
  [
    dish('白切鸡', [], ['低糖', '低脂']),
    dish('肉末蒸蛋', ['鸡蛋'], ['低盐', '低糖', '软食']),
    dish('蒜蓉菜心', [], ['低糖', '低脂', '素食']),
    dish('玉米胡萝卜汤', [], ['低盐', '低脂', '素食']),
  ],
  [
    dish('蒜蓉蒸虾', ['虾'], ['低糖', '低脂']),
    dish('木耳炒山药', [], ['低盐', '低糖', '低脂', '素食']),
    dish('土豆烧鸡块', [], ['低糖', '软食']),
    dish('丝瓜蛋汤', ['鸡蛋'], ['低盐', '低糖', '低脂', '软食']),
  ],
];
const DINNERS: Dish[][] = [
  [
    dish('南瓜小米粥', [], ['低盐', '低脂', '软食', '素食', '清真']),
    dish('肉末茄子', ['大豆'], ['低糖', '软食']),
    dish('蒜蓉生菜', [], ['低盐', '低糖', '低脂', '素食']),
  ],
  [
    dish('鱼片粥', ['鱼'], ['低盐', '低糖', '低脂', '软食']),
    dish('白灼菜心', ['大豆'], ['低糖', '低脂', '素食']),
    dish('蒸南瓜', [], ['低盐', '低脂', '软食', '素食', '清真']),
  ],
  [
    dish('萝卜炖羊肉', [], ['低糖', '软食', '清真']),
    dish('西葫芦炒蛋', ['鸡蛋'], ['低盐', '低糖', '软食']),
    dish('米饭', [], ['低盐', '低糖', '低脂', '素食', '清真']),
  ],
  [
    dish('香菇鸡肉粥', [], ['低盐', '低脂', '软食']),
    dish('清蒸豆腐', ['大豆'], ['低盐', '低糖', '低脂', '软食', '素食']),
    dish('清炒上海青', [], ['低盐', '低糖', '低脂', '素食']),
    dish('花卷', ['小麦'], ['低盐', '低脂', '素食']),
  ],
];

const MEAL_PRICE_FEN = 1200;
const MEAL_CAPACITY = 80;
const DEMO_DAYS = 7;

/* ---------------------------------------------------------------- the seed */

/**
 * Seeds the demo community relative to `now` (Asia/Shanghai days): menus for the 7 days
 * from today, childcare sessions for the next 7 weekdays, tasks in the coming days.
 * Returns what this run created; a second run with the same `now` creates nothing.
 */
export async function seedDemo(log: Logger, opts: SeedOptions): Promise<SeedSummary> {
  return seedInto(emptySummary(), log, opts);
}

export interface SeedOptions {
  /** Password of the `staff` and `admin` accounts (config.demoPassword). */
  password: string;
  now?: Date;
}

async function seedInto(summary: SeedSummary, log: Logger, { password, now = new Date() }: SeedOptions): Promise<SeedSummary> {
  const count = (key: keyof SeedSummary, ensured: Ensured): Types.ObjectId => {
    if (ensured.created) summary[key] += 1;
    return ensured._id;
  };
  const today = shanghaiDay(now);

  /* community and facilities */
  const community = count('communities', await ensure(Community, { code: DEMO_COMMUNITY_CODE }, DEMO_COMMUNITY));
  const facility = async (name: string, fields: Record<string, unknown>) =>
    count('facilities', await ensure(Facility, { community, name }, fields));
  const centre = await facility('幸福里社区党群服务中心', {
    kind: 'community_centre',
    address: '幸福里1号',
    phone: '13800009001',
    openingHours: hours(EVERY_DAY, ['08:00', '21:00']),
  });
  const kitchen = await facility('幸福里长者饭堂', {
    kind: 'kitchen',
    address: '幸福里1号首层',
    phone: '13800009002',
    openingHours: hours(EVERY_DAY, ['07:00', '19:00']),
  });
  const nursery = await facility('幸福里托育服务中心', {
    kind: 'childcare_centre',
    address: '幸福里6栋首层',
    phone: '13800009003',
    openingHours: hours(MON_TO_FRI, ['08:00', '18:00']),
  });

  /* people */
  const person = async (phone: string, fields: Record<string, unknown>) =>
    count('persons', await ensure(Person, { phone }, { community, status: 'active', roles: ['resident'], ...fields }));
  const grid1 = '第一网格';
  const grid2 = '第二网格';
  const grid3 = '第三网格';

  // The family member is created first: the elder names him as emergency contact.
  const son = await person('13800000005', {
    name: '王建国',
    gender: '男',
    birthDate: bornBefore(today, 58, 120),
    address: { building: '6栋', unit: '2单元', room: '1102' },
    grid: grid3,
  });
  const gridWorker = await person('13800000006', {
    name: '周敏',
    gender: '女',
    birthDate: bornBefore(today, 38, 45),
    address: { building: '2栋', unit: '1单元', room: '501' },
    grid: grid1,
    roles: ['resident', 'grid_worker'],
  });
  const elderAlone = await person('13800000001', {
    name: '陈桂兰',
    gender: '女',
    birthDate: bornBefore(today, 86, 73),
    address: { building: '3栋', unit: '1单元', room: '302' },
    grid: grid1,
    tags: ['独居'],
    dietaryNeeds: ['低盐'],
    emergencyContact: { name: '王建国', phone: '13800000005', relation: '儿子' },
  });
  await person('13800000002', {
    name: '刘志强',
    gender: '男',
    birthDate: bornBefore(today, 72, 200),
    address: { building: '5栋', unit: '2单元', room: '601' },
    grid: grid2,
    tags: ['低保'],
    dietaryNeeds: ['低糖'],
    emergencyContact: { name: '刘芳', phone: '13800000021', relation: '女儿' },
  });
  const elderHardship = await person('13800000003', {
    name: '赵秀英',
    gender: '女',
    birthDate: bornBefore(today, 65, 30),
    address: { building: '8栋', unit: '1单元', room: '101' },
    grid: grid1,
    tags: ['特困'],
    dietaryNeeds: ['低脂'],
    // 特困 elders have no family to call on: the grid worker is the contact.
    emergencyContact: { name: '周敏', phone: '13800000006', relation: '网格员' },
  });
  await person('13800000004', {
    name: '孙德福',
    gender: '男',
    birthDate: bornBefore(today, 82, 150),
    address: { building: '5栋', unit: '1单元', room: '203' },
    grid: grid2,
    tags: ['失能'],
    dietaryNeeds: ['软食', '低盐'],
    emergencyContact: { name: '孙丽', phone: '13800000022', relation: '女儿' },
  });
  await person('13800000007', {
    name: '吴海燕',
    gender: '女',
    birthDate: bornBefore(today, 62, 90),
    address: { building: '2栋', unit: '2单元', room: '302' },
    grid: grid1,
    roles: ['resident', 'volunteer'],
    volunteer: { skills: ['送餐', '探访'], verified: true, verifiedAt: dayjs(now).subtract(30, 'day').toDate() },
  });
  const parent = await person('13800000008', {
    name: '郑晓雯',
    gender: '女',
    birthDate: bornBefore(today, 31, 60),
    address: { building: '6栋', unit: '1单元', room: '803' },
    grid: grid3,
  });
  await person('13800000009', {
    name: '黄伟',
    gender: '男',
    birthDate: bornBefore(today, 41, 10),
    address: { building: '7栋', unit: '3单元', room: '1504' },
    grid: grid3,
  });
  const staff = await person('13800000010', {
    name: '何丽娜',
    gender: '女',
    roles: ['staff'],
    staffScope: { community, facilities: [centre, kitchen, nursery] },
  });
  const admin = await person('13800000011', {
    name: '马建华',
    gender: '男',
    roles: ['admin'],
    staffScope: { community },
  });

  /* sign-in for staff and admin */
  for (const [subject, who] of [
    [DEMO_USERNAMES.staff, staff],
    [DEMO_USERNAMES.admin, admin],
  ] as const) {
    const filter = { provider: 'staff_password' as const, subject };
    // Hash only when the identity is missing: argon2 is slow on purpose.
    if (await Identity.exists(filter)) continue;
    count('identities', await ensure(Identity, filter, { person: who, passwordHash: await hashPassword(password) }));
  }

  /* 代办 links */
  count(
    'proxyLinks',
    await ensure(
      ProxyLink,
      { proxy: son, elder: elderAlone },
      { relation: '子女', status: 'active', confirmedBy: 'elder', confirmedAt: now },
    ),
  );
  count(
    'proxyLinks',
    await ensure(
      ProxyLink,
      { proxy: gridWorker, elder: elderHardship },
      { relation: '网格员', status: 'active', confirmedBy: 'staff', confirmedAt: now },
    ),
  );

  /* rooms of the community centre */
  const room = async (name: string, fields: Record<string, unknown>) =>
    count('rooms', await ensure(Room, { facility: centre, name }, fields));
  await room('多功能活动室', {
    capacity: 40,
    equipment: ['投影仪', '音响', '话筒', '折叠桌椅'],
    openingHours: hours(EVERY_DAY, ['08:00', '21:00']),
    minNoticeMinutes: 120,
    maxDurationMinutes: 240,
    weeklyQuotaPerResident: 2,
  });
  await room('书画室', {
    capacity: 16,
    equipment: ['书画桌', '毛笔架', '储物柜'],
    openingHours: hours(MON_TO_SAT, ['08:30', '17:30']),
    maxDurationMinutes: 180,
  });
  // Split hours: morning exercise, a lunch break for the neighbours, then evening dance.
  await room('舞蹈室', {
    capacity: 25,
    equipment: ['镜墙', '把杆', '音响'],
    openingHours: hours(EVERY_DAY, ['06:30', '11:30'], ['14:00', '21:00']),
    maxDurationMinutes: 120,
  });
  await room('会议室', {
    capacity: 12,
    equipment: ['会议桌', '投影仪', '白板'],
    openingHours: hours(MON_TO_FRI, ['08:30', '17:30']),
    maxDurationMinutes: 180,
    approvalRequired: true,
  });

  /* subsidy rule (Guangzhou Zengcheng, 12 元 meal); first matching tier wins */
  count(
    'subsidyRules',
    await ensure(
      SubsidyRule,
      { community },
      {
        tiers: [
          { label: '特困/低保/低收入 60岁及以上', minAge: 60, requiresAnyTag: ['特困', '低保', '低收入'], pay: 100 },
          { label: '80岁及以上', minAge: 80, pay: 300 },
          { label: '60–79岁', minAge: 60, maxAge: 79, pay: 500 },
          { label: '60岁以下（全价）', minAge: 0, maxAge: 59, pay: MEAL_PRICE_FEN },
        ],
        deliveryFee: 200,
      },
    ),
  );

  /* a week of menus from today */
  for (let i = 0; i < DEMO_DAYS; i += 1) {
    const date = addDays(today, i);
    const sets: Record<Meal, Dish[]> = { lunch: LUNCHES[i % LUNCHES.length]!, dinner: DINNERS[i % DINNERS.length]! };
    for (const meal of ['lunch', 'dinner'] as const) {
      count(
        'mealMenus',
        await ensure(
          MealMenu,
          { kitchen, date, meal },
          {
            dishes: sets[meal],
            price: MEAL_PRICE_FEN,
            capacity: MEAL_CAPACITY,
            remaining: MEAL_CAPACITY,
            cutoff: mealCutoff(date, meal),
            published: true,
          },
        ),
      );
    }
  }

  /* childcare: a week of sessions, and a parent's child */
  await seedChildcare({ put: async (key, model, filter, fields) => count(key, await ensure(model, filter, fields)), nursery, parent, today, now });
  await seedMeals(log, { community, kitchen, now });

  /* volunteer tasks */
  const task = async (facilityId: Types.ObjectId, title: string, day: string, from: string, to: string, fields: Record<string, unknown>) => {
    const start = atShanghai(day, from);
    return count(
      'volunteerTasks',
      await ensure(
        VolunteerTask,
        { facility: facilityId, title, start },
        { community, end: atShanghai(day, to), createdBy: staff, ...fields },
      ),
    );
  };
  const tomorrow = addDays(today, 1);
  await task(kitchen, '送餐上门：明日午餐（3栋、5栋、8栋）', tomorrow, '10:45', '12:30', {
    type: 'meal_delivery',
    description: '在长者饭堂取餐后送到老人家中，当面交付，不放门口；不在家或情况异常请立即在小程序上报。',
    place: '幸福里长者饭堂（取餐点）',
    peopleNeeded: 3,
    skillsRequired: ['送餐'],
  });
  await task(centre, '特殊困难老人月探访', addDays(today, 2), '09:30', '11:00', {
    type: 'elderly_visit',
    description: '与网格员一起上门探访，了解老人近况和需求，填写探访记录。',
    place: '幸福里5栋、8栋',
    peopleNeeded: 2,
    skillsRequired: ['探访'],
  });
  await task(centre, '健康讲座场地布置', addDays(today, 3), '13:00', '14:00', {
    type: 'room_setup',
    description: '摆放桌椅、调试投影仪和音响，讲座结束后协助复原。',
    place: '党群服务中心 多功能活动室',
    peopleNeeded: 3,
  });
  await task(nursery, '托育助教（上午班）', nextWeekdays(today, 1)[0]!, '08:30', '12:00', {
    type: 'childcare_helper',
    description: '协助保育员组织游戏和午前点心，不单独照看幼儿。',
    place: '幸福里托育服务中心',
    peopleNeeded: 1,
    skillsRequired: ['托育'],
  });
  await task(centre, '邻里节文艺汇演志愿服务', addDays(today, 5), '14:30', '17:00', {
    type: 'event',
    description: '引导入场、维持秩序、协助行动不便的老人就座。',
    place: '幸福里中心广场',
    peopleNeeded: 6,
  });

  await seedVolunteers({ community, staff, today, now, ensure, countPerson: (e) => count('persons', e) });

  log.info({ created: summary }, 'demo seed finished');
  return summary;
}

/**
 * Fills the demo community when the database holds no community yet. Several processes (api,
 * bot, jobs) may start together: only the one whose upsert creates the demo community seeds.
 * Logs counts only, never names, phones or passwords.
 */
export async function seedDemoIfEmpty(log: Logger, password: string): Promise<void> {
  if (await Community.exists({})) {
    log.debug('demo seed: a community exists, nothing to seed');
    return;
  }
  const claimed = await ensure(Community, { code: DEMO_COMMUNITY_CODE }, DEMO_COMMUNITY);
  if (!claimed.created) {
    log.debug('demo seed: another process is seeding');
    return;
  }
  await seedInto({ ...emptySummary(), communities: 1 }, log, { password });
}
