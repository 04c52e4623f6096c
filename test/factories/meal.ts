import {
  MealMenu,
  SubsidyRule,
  mealCutoff,
  type CommunityDoc,
  type FacilityDoc,
  type Meal,
  type MealMenuDoc,
  type MealMenuFields,
  type SubsidyRuleDoc,
  type SubsidyRuleFields,
  type PersonDoc,
  type PersonFields,
} from '../../models/index.js';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { makeKitchen } from './community.js';
import { bornYearsAgo, makeResident } from './person.js';

/**
 * A published menu of `kitchen` (a new kitchen when omitted) for `date` (default: today in
 * Shanghai) and `meal`, 12 元, 80 places, cut-off at the default time.
 */
export async function makeMenu(
  kitchen?: FacilityDoc,
  overrides: Partial<MealMenuFields> & { date?: string; meal?: Meal } = {},
): Promise<MealMenuDoc> {
  const owner = kitchen ?? (await makeKitchen());
  const date = overrides.date ?? shanghaiDay(new Date());
  const meal = overrides.meal ?? 'lunch';
  const capacity = overrides.capacity ?? 80;
  return MealMenu.create({
    kitchen: owner._id,
    dishes: [
      { name: '清蒸鲈鱼', allergens: ['鱼'], suitableFor: ['低盐', '低脂'] },
      { name: '香菇青菜', allergens: [], suitableFor: ['低盐', '低糖', '低脂', '素食'] },
    ],
    price: 1200,
    capacity,
    remaining: capacity,
    cutoff: mealCutoff(date, meal),
    published: true,
    ...overrides,
    date,
    meal,
  });
}

/** The Zengcheng rule (1 / 3 / 5 元, full price under 60) for `community`. */
export function makeSubsidyRule(community: CommunityDoc, overrides: Partial<SubsidyRuleFields> = {}): Promise<SubsidyRuleDoc> {
  return SubsidyRule.create({
    community: community._id,
    tiers: [
      { label: '特困/低保/低收入 60岁及以上', minAge: 60, requiresAnyTag: ['特困', '低保', '低收入'], pay: 100 },
      { label: '80岁及以上', minAge: 80, pay: 300 },
      { label: '60–79岁', minAge: 60, maxAge: 79, pay: 500 },
      { label: '60岁以下', minAge: 0, maxAge: 59, pay: 1200 },
    ],
    deliveryFee: 0,
    ...overrides,
  });
}

/** A Shanghai day `days` after today (or after `from`), YYYY-MM-DD. */
export function dayFromToday(days: number, from = shanghaiDay(new Date())): string {
  return dayjs.utc(from).add(days, 'day').format('YYYY-MM-DD');
}

/** A grid worker (网格员) of `community` looking after `grids`. */
export function makeGridWorker(community: CommunityDoc, grids: string[], overrides: Partial<PersonFields> = {}): Promise<PersonDoc> {
  return makeResident({
    community: community._id,
    birthDate: bornYearsAgo(40),
    roles: ['resident', 'grid_worker'],
    workGrids: grids,
    ...overrides,
  });
}
