import argon2 from 'argon2';
import { expect } from 'chai';
import type { Model } from 'mongoose';
import {
  AGE_80_TAG,
  CHILDCARE_CLASSES,
  Child,
  ChildcareSession,
  Community,
  Facility,
  Identity,
  MIN_OPEN_HOURS_PER_DAY,
  MealMenu,
  MealOrder,
  Person,
  ProxyLink,
  Room,
  SubsidyRule,
  VolunteerTask,
  ageOn,
  derivedTags,
  openMinutesOn,
  sessionCapacity,
  subsidisedPrice,
  verifyPassword,
  type ChildcareClassType,
  type PersonDoc,
} from '../models/index.js';
import { atShanghai, shanghaiDay } from '../models/calendar.js';
import { DEMO_USERNAMES, seedDemo, seedDemoIfEmpty, type SeedSummary } from '../src/seed/demo.js';
import { bornYearsAgo, makeCommunity, makeFacility, makeIdentity, makeResident, makeRoom, makeStaff } from './factories/index.js';
import { capturedLogLines, createTestLogger } from './support/logs.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';

/** A Wednesday, 10:00 in Shanghai: menus from 2026-03-04, childcare from Thursday 03-05. */
const NOW = new Date('2026-03-04T02:00:00Z');
const PASSWORD = 'test-demo-password';
const TODAY = '2026-03-04';

const EXPECTED: SeedSummary = {
  communities: 1,
  facilities: 3,
  persons: 14,
  identities: 2,
  proxyLinks: 2,
  rooms: 4,
  mealMenus: 14,
  subsidyRules: 1,
  childcareSessions: 28,
  children: 1,
  volunteerTasks: 5,
};

const MODELS: Record<keyof SeedSummary, Model<any>> = {
  communities: Community,
  facilities: Facility,
  persons: Person,
  identities: Identity,
  proxyLinks: ProxyLink,
  rooms: Room,
  mealMenus: MealMenu,
  subsidyRules: SubsidyRule,
  childcareSessions: ChildcareSession,
  children: Child,
  volunteerTasks: VolunteerTask,
};

async function counts(): Promise<SeedSummary> {
  const entries = await Promise.all(
    Object.entries(MODELS).map(async ([key, model]) => [key, await model.countDocuments()] as const),
  );
  return Object.fromEntries(entries) as unknown as SeedSummary;
}

function addDays(day: string, n: number): string {
  return shanghaiDay(new Date(atShanghai(day, '12:00').getTime() + n * 24 * 3600_000));
}

describe('demo seed', () => {
  useCleanStorage();

  describe('seedDemo on an empty database', () => {
    let summary: SeedSummary;
    let firstLogLine: number;
    const persons = async (filter: Record<string, unknown>) => Person.find(filter);
    const oneOf = async (filter: Record<string, unknown>): Promise<PersonDoc> => {
      const found = await persons(filter);
      expect(found, JSON.stringify(filter)).to.have.length(1);
      return found[0]!;
    };
    /** The resident of the given age on NOW among those with `filter`. */
    const aged = async (age: number, filter: Record<string, unknown> = {}): Promise<PersonDoc> => {
      const found = (await persons(filter)).filter((p) => p.birthDate && ageOn(p.birthDate, NOW) === age);
      expect(found, `aged ${age}`).to.have.length(1);
      return found[0]!;
    };

    before(async () => {
      await cleanStorage();
      firstLogLine = capturedLogLines.length;
      summary = await seedDemo(createTestLogger(), { password: PASSWORD, now: NOW });
    });

    it('creates every kind of document, and the summary matches the database', async () => {
      expect(summary).to.deep.equal(EXPECTED);
      expect(await counts()).to.deep.equal(EXPECTED);
      const kinds = (await Facility.find()).map((f) => f.kind).sort();
      expect(kinds).to.deep.equal(['childcare_centre', 'community_centre', 'kitchen']);
    });

    it('opens every room and facility at least 8 hours on each day it opens', async () => {
      const rooms = await Room.find();
      expect(rooms.map((r) => r.name).sort()).to.deep.equal(['书画室', '多功能活动室', '会议室', '舞蹈室'].sort());
      for (const place of [...rooms, ...(await Facility.find())]) {
        for (let weekday = 0; weekday <= 6; weekday += 1) {
          const minutes = openMinutesOn(place.openingHours, weekday);
          if (minutes > 0) expect(minutes, `${place.name} on weekday ${weekday}`).to.be.at.least(MIN_OPEN_HOURS_PER_DAY * 60);
        }
      }
      const hall = rooms.find((r) => r.name === '多功能活动室')!;
      expect(hall.capacity).to.equal(40);
      expect(hall.equipment).to.include.members(['投影仪', '音响']);
      expect(hall.slotMinutes).to.equal(30);
      expect(hall.maxAdvanceDays).to.equal(14);
      const meeting = rooms.find((r) => r.name === '会议室')!;
      expect(meeting.capacity).to.equal(12);
      expect(meeting.approvalRequired).to.equal(true);
      expect(rooms.filter((r) => r.approvalRequired)).to.have.length(1);
    });

    it('publishes lunch and dinner for the 7 days from today, with cut-offs at 09:30 and 15:00', async () => {
      const menus = await MealMenu.find().sort({ date: 1, meal: 1 });
      const days = [...new Set(menus.map((m) => m.date))];
      expect(days).to.deep.equal([0, 1, 2, 3, 4, 5, 6].map((i) => addDays(TODAY, i)));
      for (const day of days) {
        expect(menus.filter((m) => m.date === day).map((m) => m.meal).sort()).to.deep.equal(['dinner', 'lunch']);
      }
      for (const menu of menus) {
        expect(menu.published).to.equal(true);
        expect(menu.price).to.equal(1200);
        expect(menu.capacity).to.equal(80);
        // The demo's meal orders (src/seed/meals.ts) take their portions from the display counter.
        const ordered = (await MealOrder.find({ menu: menu._id, status: 'confirmed' })).reduce((n, o) => n + o.quantity, 0);
        expect(menu.remaining).to.equal(80 - ordered);
        expect(menu.dishes.length).to.be.within(3, 4);
        expect(menu.cutoff.toISOString()).to.equal(atShanghai(menu.date, menu.meal === 'lunch' ? '09:30' : '15:00').toISOString());
      }
      const firstLunch = menus.find((m) => m.date === TODAY && m.meal === 'lunch')!;
      expect(firstLunch.cutoff.toISOString()).to.equal('2026-03-04T01:30:00.000Z');
      expect(firstLunch.dishes.find((d) => d.name === '清蒸鲈鱼')?.allergens).to.deep.equal(['鱼']);
    });

    it('has the residents of every kind, with derived 80+ tags', async () => {
      const alone = await aged(86);
      expect(alone.derivedTags(NOW)).to.include.members([AGE_80_TAG, '独居']);
      expect(alone.tags).to.not.include(AGE_80_TAG); // derived, never stored
      expect(alone.dietaryNeeds).to.deep.equal(['低盐']);
      expect(derivedTags(alone.toObject(), NOW)).to.include(AGE_80_TAG);

      expect((await aged(72)).tags).to.deep.equal(['低保']);
      const hardship = await aged(65);
      expect(hardship.tags).to.deep.equal(['特困']);
      const disabled = await aged(82);
      expect(disabled.derivedTags(NOW)).to.include.members(['失能', AGE_80_TAG]);

      const family = await ProxyLink.findOne({ elder: alone._id, relation: '子女' });
      expect(family?.status).to.equal('active');
      const gridLink = await ProxyLink.findOne({ elder: hardship._id, relation: '网格员' });
      expect(gridLink?.status).to.equal('active');
      const gridWorker = await Person.findById(gridLink!.proxy);
      expect([...gridWorker!.roles].sort()).to.deep.equal(['grid_worker', 'resident']);

      const volunteer = await oneOf({ roles: 'volunteer', phone: '13800000007' });
      expect(volunteer.volunteer?.verified).to.equal(true);
      expect(volunteer.volunteer?.skills).to.include.members(['送餐', '探访']);
      const volunteers = await persons({ roles: 'volunteer' });
      expect(volunteers.filter((v) => v.volunteer?.verified)).to.have.length(3);
      expect(volunteers.filter((v) => !v.volunteer?.verified)).to.have.length(1); // waiting for staff

      const child = await Child.findOne();
      expect(child!.ageInMonths(NOW)).to.equal(20);
      expect(child!.guardians).to.have.length(1);
      expect(child!.guardians[0]!.relation).to.equal('奶奶');
      expect(child!.parents.map(String)).to.include(String(child!.guardians[0]!.authorisedBy));

      const working = (await persons({ roles: ['resident'] })).filter((p) => {
        const age = ageOn(p.birthDate!, NOW);
        return age >= 18 && age < 60 && !child!.parents.some((id) => id.equals(p._id));
      });
      expect(working.length).to.be.at.least(2); // the son and the working-age resident

      const staff = await oneOf({ roles: ['staff'] });
      expect(staff.staffScope?.facilities?.map(String).sort()).to.deep.equal((await Facility.find()).map((f) => String(f._id)).sort());
      expect(staff.birthDate).to.equal(undefined);
      await oneOf({ roles: ['admin'] });

      for (const p of await Person.find()) {
        expect(p.phone, p.name ?? undefined).to.match(/^1380000\d{4}$/);
        expect(p.status).to.equal('active');
      }
    });

    it('gives staff and admin argon2-hashed passwords that verify', async () => {
      const password = PASSWORD;
      for (const username of Object.values(DEMO_USERNAMES)) {
        const identity = await Identity.findOne({ provider: 'staff_password', subject: username });
        expect(identity, username).to.not.equal(null);
        const hash = identity!.passwordHash!;
        expect(hash).to.not.equal(password);
        expect(hash).to.match(/^\$argon2id\$/);
        expect(await argon2.verify(hash, password)).to.equal(true);
        expect(await verifyPassword(hash, `${password}x`)).to.equal(false);
        expect(JSON.stringify(identity)).to.not.include('passwordHash');
      }
      const admin = await Person.findById((await Identity.findOne({ subject: DEMO_USERNAMES.admin }))!.person);
      expect(admin!.roles).to.deep.equal(['admin']);
    });

    it('applies the Zengcheng subsidy tiers to the demo residents', async () => {
      const rule = await SubsidyRule.findOne();
      const price = (p: PersonDoc) => subsidisedPrice(rule!.tiers, ageOn(p.birthDate!, NOW), p.tags, 1200);
      expect(price(await aged(86))).to.equal(300);
      expect(price(await aged(82))).to.equal(300);
      expect(price(await aged(72))).to.equal(100); // 低保
      expect(price(await aged(65))).to.equal(100); // 特困
      expect(price(await aged(62))).to.equal(500); // the volunteer
      expect(price(await aged(41))).to.equal(1200);
    });

    it('opens childcare sessions on the next 7 weekdays, mornings and afternoons', async () => {
      const sessions = await ChildcareSession.find().sort({ start: 1 });
      const days = [...new Set(sessions.map((s) => s.date))];
      expect(days).to.deep.equal(['2026-03-05', '2026-03-06', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13']);
      for (const s of sessions) {
        expect(['托小班', '托大班']).to.include(s.classType);
        expect([atShanghai(s.date, '08:30'), atShanghai(s.date, '14:00')].map(Number)).to.include(s.start.getTime());
        expect(s.end.getTime() - s.start.getTime()).to.equal(3.5 * 3600_000);
        expect(s.carersOnShift).to.be.within(2, 3);
        expect(s.capacity).to.equal(sessionCapacity(s.classType, s.carersOnShift));
        expect(s.booked).to.equal(0);
      }
    });

    it('creates one open task of each type, with a 6-digit site code', async () => {
      const tasks = await VolunteerTask.find();
      expect(tasks.map((t) => t.type).sort()).to.deep.equal(['childcare_helper', 'elderly_visit', 'event', 'meal_delivery', 'room_setup']);
      for (const t of tasks) {
        expect(t.siteCode).to.match(/^\d{6}$/);
        expect(t.status).to.equal('open');
        expect(t.claimedCount).to.equal(0);
        expect(t.end.getTime()).to.be.greaterThan(t.start.getTime());
      }
      const delivery = tasks.find((t) => t.type === 'meal_delivery')!;
      expect(shanghaiDay(delivery.start)).to.equal('2026-03-05');
      expect(delivery.skillsRequired).to.include('送餐');
    });

    it('logs counts only, nothing personal', async () => {
      const lines = capturedLogLines.slice(firstLogLine).join('\n');
      expect(lines).to.include('demo seed finished');
      const personal = [PASSWORD, '1380000', ...(await Person.find()).map((p) => p.name)];
      for (const text of personal) expect(lines).to.not.include(text);
    });

    it('creates nothing on a second run and keeps what staff changed', async () => {
      const before = await counts();
      await Room.updateOne({ name: '会议室' }, { $set: { capacity: 10 } });
      const menu = await MealMenu.findOne({ date: TODAY, meal: 'lunch' });
      const again = await seedDemo(createTestLogger(), { password: PASSWORD, now: NOW });
      expect(Object.values(again).every((n) => n === 0), JSON.stringify(again)).to.equal(true);
      expect(await counts()).to.deep.equal(before);
      expect((await Room.findOne({ name: '会议室' }))!.capacity).to.equal(10);
      const menuAfter = await MealMenu.findOne({ date: TODAY, meal: 'lunch' });
      expect(menuAfter!.updatedAt.getTime()).to.equal(menu!.updatedAt.getTime());
    });
  });

  describe('seedDemoIfEmpty', () => {
    beforeEach(cleanStorage);

    it('seeds an empty database once', async () => {
      await seedDemoIfEmpty(createTestLogger(), PASSWORD);
      const seeded = await counts();
      expect(seeded).to.deep.equal(EXPECTED);
      await seedDemoIfEmpty(createTestLogger(), PASSWORD);
      expect(await counts()).to.deep.equal(seeded);
    });

    it('seeds once when several processes start together', async () => {
      await Promise.all([1, 2, 3].map(() => seedDemoIfEmpty(createTestLogger(), PASSWORD)));
      expect(await counts()).to.deep.equal(EXPECTED);
    });

    it('leaves a database that already has a community alone', async () => {
      await makeCommunity();
      await seedDemoIfEmpty(createTestLogger(), PASSWORD);
      expect((await counts()).persons).to.equal(0);
    });
  });

  describe('sessionCapacity', () => {
    const cases: Array<[ChildcareClassType, number, number]> = [
      ['乳儿班', 1, 3],
      ['乳儿班', 3, 9],
      ['乳儿班', 4, 10],
      ['托小班', 2, 10],
      ['托小班', 3, 15],
      ['托小班', 4, 15],
      ['托大班', 2, 14],
      ['托大班', 3, 20],
      ['托大班', 5, 20],
      ['混龄', 3, 15],
      ['混龄', 4, 18],
      ['托小班', 0, 0],
    ];
    for (const [classType, carers, expected] of cases) {
      it(`${classType} with ${carers} carer(s) → ${expected}`, () => {
        expect(sessionCapacity(classType, carers)).to.equal(expected);
      });
    }

    it('never exceeds the class maximum and rejects a bad carer count', () => {
      for (const classType of Object.keys(CHILDCARE_CLASSES) as ChildcareClassType[]) {
        expect(sessionCapacity(classType, 100)).to.equal(CHILDCARE_CLASSES[classType].maxChildren);
      }
      expect(() => sessionCapacity('托小班', -1)).to.throw(RangeError);
      expect(() => sessionCapacity('托小班', 1.5)).to.throw(RangeError);
    });
  });

  describe('model rules', () => {
    it('counts age in full years on the Shanghai calendar', () => {
      const born = atShanghai('1946-03-05', '00:00');
      expect(ageOn(born, atShanghai('2026-03-04', '23:59'))).to.equal(79);
      expect(ageOn(born, atShanghai('2026-03-05', '00:00'))).to.equal(80);
      // 2026-03-04T16:30Z is already 03-05 in Shanghai.
      expect(ageOn(born, new Date('2026-03-04T16:30:00Z'))).to.equal(80);
      expect(derivedTags({ tags: ['独居'], birthDate: bornYearsAgo(79) }, new Date())).to.deep.equal(['独居']);
    });

    it('keeps one identity per provider and subject, and stores only argon2 hashes', async () => {
      const person = await makeResident();
      await makeIdentity(person, { provider: 'wechat_bot', subject: 'contact-x' });
      const duplicate = await makeIdentity(person, { provider: 'wechat_bot', subject: 'contact-x' }).catch((err: unknown) => err);
      expect((duplicate as { code?: number }).code).to.equal(11000);

      const plain = await makeIdentity(person, { provider: 'staff_password', subject: 'plain', passwordHash: 'demo-2026' }).catch(
        (err: unknown) => err,
      );
      expect((plain as Error).name).to.equal('ValidationError');
      const missing = await makeIdentity(person, { provider: 'staff_password', subject: 'nohash' }).catch((err: unknown) => err);
      expect((missing as Error).name).to.equal('ValidationError');

      const { identity } = await makeStaff({}, { password: 'secret-pass' });
      expect(await verifyPassword(identity!.passwordHash, 'secret-pass')).to.equal(true);
    });

    it('rejects opening hours that close before they open or overlap', async () => {
      const facility = await makeFacility();
      const bad = [
        [{ weekday: 1, open: '18:00', close: '08:00' }],
        [
          { weekday: 1, open: '08:00', close: '12:00' },
          { weekday: 1, open: '11:00', close: '18:00' },
        ],
        [{ weekday: 7, open: '08:00', close: '18:00' }],
        [{ weekday: 1, open: '8:00', close: '18:00' }],
      ];
      for (const openingHours of bad) {
        const error = await makeRoom(facility, { openingHours }).catch((err: unknown) => err);
        expect((error as Error).name, JSON.stringify(openingHours)).to.equal('ValidationError');
      }
      const split = await makeRoom(facility, {
        openingHours: [
          { weekday: 1, open: '06:30', close: '11:30' },
          { weekday: 1, open: '14:00', close: '21:00' },
        ],
      });
      expect(openMinutesOn(split.openingHours, 1)).to.equal(12 * 60);
    });

    it('rejects a childcare capacity above the ratio and a guardian no parent authorised', async () => {
      const centre = await makeFacility(undefined, { kind: 'childcare_centre' });
      const over = await ChildcareSession.create({
        centre: centre._id,
        date: '2026-03-05',
        start: atShanghai('2026-03-05', '08:30'),
        end: atShanghai('2026-03-05', '12:00'),
        classType: '托小班',
        carersOnShift: 2,
        capacity: 11,
      }).catch((err: unknown) => err);
      expect((over as Error).name).to.equal('ValidationError');

      const parent = await makeResident({ birthDate: bornYearsAgo(30) });
      const stranger = await makeResident();
      const child = await Child.create({
        parents: [parent._id],
        name: '测试宝宝',
        birthDate: bornYearsAgo(1),
        guardians: [{ name: '某人', relation: '邻居', phone: '13800004999', authorisedBy: stranger._id, authorisedAt: new Date() }],
      }).catch((err: unknown) => err);
      expect((child as Error).name).to.equal('ValidationError');
    });
  });
});
