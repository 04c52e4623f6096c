import { expect } from 'chai';
import mongoose, { trusted } from 'mongoose';
import type { MessageInterface } from 'wechaty/impls';
import { startBot, type RunningBot } from '../bots/index.js';
import { JOBS, reconcile, runJobTick } from '../jobs/index.js';
import { atShanghai, shanghaiDay } from '../models/calendar.js';
import {
  Notification, NotificationAttempt, NotificationResult, SubscriptionGrant, SubscriptionGrantUse, type PersonDoc,
} from '../models/index.js';
import { cancelRoomBooking } from '../src/commands/roomBookings.js';
import { notify, notifyMany } from '../src/commands/notify.js';
import { asSelf } from '../src/auth/user.js';
import { createBotChannel, createSubscribeChannel } from '../src/outbox/channels.js';
import { CONTACTS_BUILT_KEY, CONTACTS_KEY, botContactsOf, rebuildContactIndex } from '../src/outbox/contacts.js';
import { bindBotContact, issueBindingCode, unbindBotContacts } from '../src/commands/botBinding.js';
import { dispatchDueNotifications } from '../src/outbox/dispatch.js';
import { ATTEMPT_KEY, DUE_KEY, MSG_KEY } from '../src/outbox/index.js';
import { DAY_AND_HOUR_BEFORE, EVENING_AND_HOUR_BEFORE, reminderTimes } from '../src/outbox/reminders.js';
import {
  makeIdentity, makeMiniProgramIdentity, makeNotification, makeResident, makeRoom, makeRoomBookingRecord, makeStaff,
} from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { createTestLogger } from './support/logs.js';
import { startInstances, stubChannel, type TestInstance } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

const MINUTE = 60_000;
const dispatchJob = JOBS.find((j) => j.name === 'outbox.dispatch')!;
const remindersJob = JOBS.find((j) => j.name === 'rooms.enqueueReminders')!;

/** A Shanghai day `n` days after today's, so injected times never collide between runs. */
const dayAhead = (n: number) => shanghaiDay(new Date(Date.now() + n * 86_400_000));
const at = (day: string, hhmm: string) => atShanghai(day, hhmm);
const dayBefore = (day: string) => shanghaiDay(new Date(at(day, '12:00').getTime() - 86_400_000));

/** Runs a job's tick on every instance at once, as three processes' timers would. */
const tickAll = (instances: TestInstance[], job = dispatchJob, now: Date) =>
  Promise.all(instances.map((i) => runJobTick(i.deps, job, now, now)));

const outcomesOf = async (key: string) => {
  const note = await Notification.findOne({ key });
  const results = await NotificationResult.find({ notification: note!._id }).sort({ attempt: 1 }).lean();
  return results.map((r) => r.outcome);
};

describe('outbox: reminders and their delivery', () => {
  useCleanStorage();
  const redis = () => testEnvironment().redis;
  // Each test dispatches at its own (future) time: entries another test left must not be due.
  beforeEach(async () => {
    await redis().del(DUE_KEY, MSG_KEY, ATTEMPT_KEY);
  });

  describe('room booking reminders with three instances and the bot', () => {
    let bot: RunningBot;
    let instances: TestInstance[];
    let close: () => Promise<void>;
    /** Messages the bot sent, per contact id (as Wechaty sees its own messages). */
    const received = new Map<string, string[]>();
    const onMessage = (m: MessageInterface) => {
      if (!m.self() || m.room()) return;
      const to = m.listener()?.id;
      if (to) received.set(to, [...(received.get(to) ?? []), m.text()]);
    };

    before(async () => {
      bot = await startBot({ config: testConfig(), logger: createTestLogger(), mongo: mongoose.connection, redis: redis() });
      bot.wechaty.on('message', onMessage);
      // Small batches, so the three dispatchers really contend for the same entries.
      const config = testConfig({ OUTBOX_BATCH_SIZE: '3' });
      ({ instances, close } = await startInstances(3, { config, channels: () => ({ bot: createBotChannel(bot.wechaty) }) }));
    });
    after(async () => {
      bot.wechaty.off('message', onMessage);
      await close();
      await bot.stop();
    });

    /** Waits until `count` messages arrived (the mock puppet delivers asynchronously), then a little more for extras. */
    async function settle(count: number) {
      const total = () => [...received.values()].reduce((n, l) => n + l.length, 0);
      const deadline = Date.now() + 5_000;
      while (total() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
    }

    it('sends each reminder exactly once, the evening before and one hour before', async () => {
      const day = dayAhead(10);
      const room = await makeRoom();
      const residents: PersonDoc[] = [];
      const contacts: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        const resident = await makeResident();
        const contact = bot.mocker!.createContact({ name: `居民${i}` });
        await makeIdentity(resident, { provider: 'wechat_bot', subject: contact.id });
        residents.push(resident);
        contacts.push(contact.id);
        await makeRoomBookingRecord(room, resident, at(day, `${String(9 + (i % 8)).padStart(2, '0')}:00`));
      }
      await rebuildContactIndex(redis()); // the factory wrote the identities directly

      // The reminder job runs on all three at 12:00 the day before: each reminder stored once.
      const noon = at(dayBefore(day), '12:00');
      const enqueue = await tickAll(instances, remindersJob, noon);
      expect(enqueue.filter((r) => r.status === 'ok').map((r) => r.counts)).to.deep.equal([{ bookings: 12, reminders: 24, enqueued: 24 }]);
      expect(await Notification.countDocuments({ kind: 'room_booking_reminder' })).to.equal(24);
      await tickAll(instances, remindersJob, new Date(noon.getTime() + 5 * MINUTE)); // a later tick adds nothing
      expect(await Notification.countDocuments({ kind: 'room_booking_reminder' })).to.equal(24);

      // Nothing is due at noon; at 20:00 the evening reminders go, each once.
      let reports = await tickAll(instances, dispatchJob, noon);
      expect(reports.map((r) => r.counts!.sent)).to.deep.equal([0, 0, 0]);
      reports = await tickAll(instances, dispatchJob, at(dayBefore(day), '20:00'));
      expect(reports.reduce((n, r) => n + r.counts!.sent, 0)).to.equal(12);
      await settle(12);
      for (const contact of contacts) {
        expect(received.get(contact), contact).to.have.length(1);
        expect(received.get(contact)![0]).to.match(/^提醒：您明天/);
      }

      // On the day, each one-hour reminder goes at its hour (08:00 … 15:00), once more.
      let sent = 0;
      for (let hour = 8; hour <= 15; hour += 1) {
        reports = await tickAll(instances, dispatchJob, at(day, `${String(hour).padStart(2, '0')}:00`));
        sent += reports.reduce((n, r) => n + r.counts!.sent, 0);
      }
      expect(sent).to.equal(12);
      await settle(24);
      for (const contact of contacts) {
        expect(received.get(contact), contact).to.have.length(2);
        expect(received.get(contact)![1]).to.match(/将在 \d\d:00 开始/);
      }
      // Proof in the database: one claim and one `sent` per reminder.
      expect(await NotificationAttempt.countDocuments()).to.equal(24);
      expect(await NotificationResult.countDocuments({ outcome: 'sent' })).to.equal(24);
    });

    it('sends a reminder that fell due during an outage after the restart, and skips one that became pointless', async () => {
      const day = dayAhead(11);
      const room = await makeRoom();
      const resident = await makeResident();
      const contact = bot.mocker!.createContact({ name: '停机期间的居民' });
      await makeIdentity(resident, { provider: 'wechat_bot', subject: contact.id });
      await rebuildContactIndex(redis());
      const morning = await makeRoomBookingRecord(room, resident, at(day, '09:00'));
      const evening = await makeRoomBookingRecord(room, resident, at(day, '19:00'));
      await runJobTick(instances[0]!.deps, remindersJob, at(dayBefore(day), '12:00'), at(dayBefore(day), '12:00'));

      // Every instance is down from 19:00 the day before until 10:00, and Redis lost its data.
      await redis().del(DUE_KEY, MSG_KEY, ATTEMPT_KEY);
      const restart = at(day, '10:00');
      const counts = await reconcile(instances[1]!.deps, restart);
      expect(counts).to.include({ pending: 4, added: 4 });
      const reports = await tickAll(instances, dispatchJob, restart);
      const sum = (k: string) => reports.reduce((n, r) => n + (r.counts![k] ?? 0), 0);
      expect({ sent: sum('sent'), skipped: sum('skipped') }).to.deep.equal({ sent: 1, skipped: 2 });
      // The evening reminder (20:00 the day before) is still useful: sent late, once.
      expect(await outcomesOf(`room-booking:${evening._id}:reminder-eve@${evening.start.getTime()}`)).to.deep.equal(['sent']);
      // The morning booking has started: neither of its reminders is sent any more.
      expect(await outcomesOf(`room-booking:${morning._id}:reminder-eve@${morning.start.getTime()}`)).to.deep.equal(['skipped']);
      expect(await outcomesOf(`room-booking:${morning._id}:reminder-1h@${morning.start.getTime()}`)).to.deep.equal(['skipped']);
      // The 18:00 reminder of the evening booking is not due yet, and goes at its time.
      const later = await tickAll(instances, dispatchJob, at(day, '18:00'));
      expect(later.reduce((n, r) => n + r.counts!.sent, 0)).to.equal(1);
      await settle(2 + 24);
      expect(received.get(contact.id)).to.have.length(2);
      // A second restart finds nothing left to send.
      expect(await reconcile(instances[2]!.deps, at(day, '18:30'))).to.include({ pending: 0 });
    });

    it('withdraws the reminders of a cancelled booking', async () => {
      const day = dayAhead(12);
      const room = await makeRoom();
      const resident = await makeResident();
      const contact = bot.mocker!.createContact({ name: '取消预约的居民' });
      await makeIdentity(resident, { provider: 'wechat_bot', subject: contact.id });
      await rebuildContactIndex(redis());
      const booking = await makeRoomBookingRecord(room, resident, at(day, '15:00'));
      await runJobTick(instances[0]!.deps, remindersJob, at(dayBefore(day), '12:00'), at(dayBefore(day), '12:00'));
      const deps = { rules: testConfig().booking, redis: redis(), log: createTestLogger() };
      await cancelRoomBooking(deps, asSelf(resident), booking, false, undefined, at(dayBefore(day), '13:00'));
      const reports = await tickAll(instances, dispatchJob, at(day, '15:00'));
      expect(reports.reduce((n, r) => n + r.counts!.taken, 0)).to.equal(0);
      expect(await outcomesOf(`room-booking:${booking._id}:reminder-eve@${booking.start.getTime()}`)).to.deep.equal(['withdrawn']);
      // and a restart does not bring them back
      expect(await reconcile(instances[0]!.deps, at(day, '09:00'))).to.include({ pending: 0 });
    });
  });

  describe('retries and dead letters', () => {
    const rules = { maxAttempts: 3, retryBaseSeconds: 60, retryMaxSeconds: 3600 };

    it('retries a failing channel with backoff, then dead-letters it', async () => {
      const resident = await makeResident();
      await makeIdentity(resident, { provider: 'wechat_bot', subject: `contact-failing-${resident._id}` });
      await rebuildContactIndex(redis());
      const failing = stubChannel('bot', () => ({ status: 'retry', error: 'bot_send_Error' }));
      const deps = { redis: redis(), channels: { bot: failing.channel }, instance: 'solo', rules };
      const t0 = at(dayAhead(20), '10:00');
      const key = await makeNotification(resident, t0);

      expect(await dispatchDueNotifications(deps, t0, 10)).to.include({ taken: 1, retried: 1 });
      // attempt 2 is due 60 s later, not before
      expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 59_000), 10)).to.include({ taken: 0 });
      expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 60_000), 10)).to.include({ taken: 1, retried: 1 });
      // attempt 3 waits 120 s more; it is the last
      expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 179_000), 10)).to.include({ taken: 0 });
      expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 180_000), 10)).to.include({ taken: 1, dead: 1 });
      expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 86_400_000), 10)).to.include({ taken: 0 });
      expect(await outcomesOf(key)).to.deep.equal(['failed', 'failed', 'dead']);
      expect([...failing.calls.values()]).to.deep.equal([3]);
    });

    it('sends once when a failure is followed by success', async () => {
      const resident = await makeResident();
      await makeIdentity(resident, { provider: 'wechat_bot', subject: `contact-flaky-${resident._id}` });
      await rebuildContactIndex(redis());
      const flaky = stubChannel('bot', (_m, call) => (call === 1 ? { status: 'retry', error: 'bot_logged_out' } : { status: 'sent' }));
      const { instances, close } = await startInstances(3);
      try {
        const deps = instances.map((i) => ({ redis: i.redis, channels: { bot: flaky.channel }, instance: i.deps.instance, rules }));
        const t0 = at(dayAhead(21), '10:00');
        const key = await makeNotification(resident, t0);
        await Promise.all(deps.map((d) => dispatchDueNotifications(d, t0, 10)));
        await Promise.all(deps.map((d) => dispatchDueNotifications(d, new Date(t0.getTime() + 60_000), 10)));
        await Promise.all(deps.map((d) => dispatchDueNotifications(d, new Date(t0.getTime() + 3_600_000), 10)));
        expect(await outcomesOf(key)).to.deep.equal(['failed', 'sent']);
        expect([...flaky.sends.values()]).to.deep.equal([1]);
      } finally {
        await close();
      }
    });

    it('records "no channel" for a person with no bot contact and no subscription', async () => {
      const resident = await makeResident();
      const t0 = at(dayAhead(22), '10:00');
      const key = await makeNotification(resident, t0);
      const deps = { redis: redis(), channels: { bot: stubChannel().channel }, instance: 'solo', rules };
      expect(await dispatchDueNotifications(deps, t0, 10)).to.include({ noChannel: 1 });
      expect(await outcomesOf(key)).to.deep.equal(['no_channel']);
    });

    it('leaves a bot-bound person\'s message to a process that runs the bot', async () => {
      const resident = await makeResident();
      await makeIdentity(resident, { provider: 'wechat_bot', subject: `contact-deferred-${resident._id}` });
      await rebuildContactIndex(redis());
      const t0 = at(dayAhead(25), '10:00');
      const key = await makeNotification(resident, t0);
      const jobsOnly = { redis: redis(), channels: {}, instance: 'jobs-only', rules };
      expect(await dispatchDueNotifications(jobsOnly, t0, 10)).to.include({ taken: 1, deferred: 1 });
      expect(await NotificationAttempt.countDocuments({ notification: (await Notification.findOne({ key }))!._id })).to.equal(0);
      const bot = stubChannel();
      const withBot = { redis: redis(), channels: { bot: bot.channel }, instance: 'with-bot', rules };
      expect(await dispatchDueNotifications(withBot, new Date(t0.getTime() + 30_000), 10)).to.include({ sent: 1 });
      expect(await outcomesOf(key)).to.deep.equal(['sent']);
    });

    it('reloads a message whose payload Redis lost, and re-sends after a dispatcher crashed mid-send', async () => {
      const resident = await makeResident();
      await makeIdentity(resident, { provider: 'wechat_bot', subject: `contact-crash-${resident._id}` });
      await rebuildContactIndex(redis());
      const t0 = at(dayAhead(26), '10:00');
      const key = await makeNotification(resident, t0);
      const note = (await Notification.findOne({ key }))!;
      await redis().hdel(MSG_KEY, String(note._id));
      const bot = stubChannel();
      const deps = { redis: redis(), channels: { bot: bot.channel }, instance: 'solo', rules };
      expect(await dispatchDueNotifications(deps, t0, 10)).to.include({ sent: 1 });
      expect(await outcomesOf(key)).to.deep.equal(['sent']);

      // Another one is claimed by a dispatcher that dies before recording what happened.
      const lost = await makeNotification(resident, t0);
      const lostNote = (await Notification.findOne({ key: lost }))!;
      await redis().zrem(DUE_KEY, String(lostNote._id));
      await NotificationAttempt.create({ notification: lostNote._id, attempt: 1, instance: 'crashed', claimedAt: t0 });
      const reconcileAt = (minutes: number) => reconcile({ ...deps, config: testConfig(), logger: createTestLogger(), instance: 'r' }, new Date(t0.getTime() + minutes * MINUTE));
      expect(await reconcileAt(5)).to.include({ inFlight: 1, recovered: 0 }); // it may still be sending
      expect(await reconcileAt(11)).to.include({ inFlight: 0, recovered: 1 });
      expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 11 * MINUTE), 10)).to.include({ sent: 1 });
      expect(await outcomesOf(lost)).to.deep.equal(['sent']);
      const attempts = await NotificationAttempt.find({ notification: lostNote._id }).sort({ attempt: 1 }).lean();
      expect(attempts.map((a) => [a.attempt, a.instance])).to.deep.equal([[1, 'crashed'], [2, 'solo']]);
    });

    describe('GET /api/v1/notifications/undelivered and POST /api/v1/notifications/:id/retry', () => {
      it('answers 401 without a token, 403 to a resident and to staff of another community, 404 for an unknown id', async () => {
        const { request } = createTestApp();
        expect((await request.get('/api/v1/notifications/undelivered')).status).to.equal(401);
        const resident = await makeResident();
        const auth = await bearerFor(resident);
        expect((await request.get('/api/v1/notifications/undelivered').set('Authorization', auth)).status).to.equal(403);
        const t0 = at(dayAhead(23), '10:00');
        const key = await makeNotification(resident, t0);
        await dispatchDueNotifications({ redis: redis(), channels: {}, instance: 'solo', rules }, t0, 10);
        const note = await Notification.findOne({ key });
        expect((await request.post(`/api/v1/notifications/${note!._id}/retry`).set('Authorization', auth)).status).to.equal(403);
        const { person: elsewhere } = await makeStaff();
        const other = await bearerFor(elsewhere);
        expect((await request.post(`/api/v1/notifications/${note!._id}/retry`).set('Authorization', other)).status).to.equal(403);
        const listed = await request.get('/api/v1/notifications/undelivered').set('Authorization', other);
        expect(listed.status).to.equal(200);
        expect(listed.body.items.map((i: { key: string }) => i.key)).to.not.include(key);
        const missing = await request.post(`/api/v1/notifications/${new mongoose.Types.ObjectId()}/retry`).set('Authorization', other);
        expect(missing.status).to.equal(404);
        const bad = await request.post('/api/v1/notifications/123/retry').set('Authorization', other);
        expect(bad.status).to.equal(400);
        expect(bad.body.error.details[0].message).to.contain('格式不正确');
      });

      it('shows staff the dead letters of their community and retries one: sent once, then no longer listed', async () => {
        const { request } = createTestApp();
        const resident = await makeResident();
        await makeIdentity(resident, { provider: 'wechat_bot', subject: `contact-dead-${resident._id}` });
        await rebuildContactIndex(redis());
        const { person: staff } = await makeStaff({ community: resident.community });
        const auth = await bearerFor(staff);
        const t0 = at(dayAhead(24), '10:00');
        const key = await makeNotification(resident, t0);
        const failing = stubChannel('bot', () => ({ status: 'failed', error: 'bot_contact_not_found' }));
        expect(await dispatchDueNotifications({ redis: redis(), channels: { bot: failing.channel }, instance: 'solo', rules }, t0, 10))
          .to.include({ dead: 1 });

        const listed = await request.get('/api/v1/notifications/undelivered').set('Authorization', auth);
        expect(listed.status).to.equal(200);
        const item = listed.body.items.find((i: { key: string }) => i.key === key);
        expect(item).to.include({ outcome: 'dead', error: 'bot_contact_not_found', attempts: 1 });
        expect(item.person.id).to.equal(String(resident._id));

        // Two staff clicks at once: one retry.
        const [a, b] = await Promise.all([1, 2].map(() => request.post(`/api/v1/notifications/${item.id}/retry`).set('Authorization', auth)));
        expect([a.status, b.status].sort()).to.deep.equal([202, 409]);
        expect([a, b].find((r) => r.status === 409)!.body.error.code).to.equal('notification_retry_pending');
        const working = stubChannel();
        const { instances, close } = await startInstances(3);
        try {
          const now = new Date(Date.now() + MINUTE);
          await Promise.all(instances.map((i) => dispatchDueNotifications({ redis: i.redis, channels: { bot: working.channel }, instance: i.deps.instance, rules }, now, 10)));
        } finally {
          await close();
        }
        expect([...working.sends.values()]).to.deep.equal([1]);
        expect(await outcomesOf(key)).to.deep.equal(['dead', 'sent']);
        const after = await request.get('/api/v1/notifications/undelivered').set('Authorization', auth);
        expect(after.body.items.map((i: { key: string }) => i.key)).to.not.include(key);
        const again = await request.post(`/api/v1/notifications/${item.id}/retry`).set('Authorization', auth);
        expect(again.status).to.equal(409);
        expect(again.body.error.code).to.equal('notification_not_retryable');
      });
    });
  });

  describe('mini-program subscribe messages', () => {
    const rules = { maxAttempts: 3, retryBaseSeconds: 60, retryMaxSeconds: 3600 };
    const TEMPLATE = 'tmpl-booking-reminder';
    const subscribe = (n: number) => ({
      templateId: TEMPLATE,
      page: 'pages/bookings/index',
      data: { thing1: `第${n}活动室（三楼东侧，靠近电梯，请提前十分钟到达签到处）`, time2: '2031-05-01 09:00', thing3: '合唱排练' },
    });

    describe('POST /api/v1/me/subscription-grants', () => {
      it('answers 401 without a token, 400 for a bad template id, 409 without a mini-program sign-in', async () => {
        const { request } = createTestApp();
        expect((await request.post('/api/v1/me/subscription-grants').send({ templateIds: [TEMPLATE] })).status).to.equal(401);
        const resident = await makeResident();
        const auth = await bearerFor(resident);
        const bad = await request.post('/api/v1/me/subscription-grants').set('Authorization', auth).send({ templateIds: ['a b'] });
        expect(bad.status).to.equal(400);
        expect(bad.body.error.details[0].message).to.contain('格式不正确');
        const none = await request.post('/api/v1/me/subscription-grants').set('Authorization', auth).send({ templateIds: [TEMPLATE] });
        expect(none.status).to.equal(409);
        expect(none.body.error.code).to.equal('miniprogram_not_signed_in');
      });
    });

    it('sends a subscribe message only while a grant remains, within WeChat\'s field limits', async () => {
      const standIn = testEnvironment().wechatStandIn;
      standIn.reset();
      const { request } = createTestApp();
      const resident = await makeResident();
      const { subject: openid } = await makeMiniProgramIdentity(resident);
      standIn.grantSubscription(openid, TEMPLATE, 1); // the user accepted once, at WeChat…
      const res = await request.post('/api/v1/me/subscription-grants').set('Authorization', await bearerFor(resident)).send({ templateIds: [TEMPLATE] });
      expect(res.status).to.equal(201); // …and the mini-program told us
      expect(res.body).to.deep.equal({ granted: 1, remaining: [{ templateId: TEMPLATE, remaining: 1 }] });

      const { instances, close } = await startInstances(1);
      try {
        const deps = { redis: redis(), channels: { subscribe: createSubscribeChannel({ redis: redis(), wechat: instances[0]!.deps.wechat! }) }, instance: 'solo', rules };
        const t0 = at(dayAhead(30), '10:00');
        const first = await makeNotification(resident, t0, { subscribe: subscribe(1) });
        const second = await makeNotification(resident, t0, { subscribe: subscribe(2) });
        expect(await dispatchDueNotifications(deps, t0, 10)).to.include({ sent: 1, noChannel: 1 });
        expect(standIn.sentMessages).to.have.length(1);
        const sent = standIn.sentMessages[0]!;
        expect(sent).to.include({ toUser: openid, templateId: TEMPLATE, page: 'pages/bookings/index' });
        expect(Array.from(sent.data.thing1!)).to.have.length(20);
        expect(sent.data.thing1).to.match(/…$/);
        const outcomes = [await outcomesOf(first), await outcomesOf(second)];
        expect(outcomes.flat().sort()).to.deep.equal(['no_channel', 'sent']);
        const results = await NotificationResult.find({ outcome: 'no_channel' }).lean();
        expect(results.map((r) => r.error)).to.include('no_subscription_grant');
      } finally {
        await close();
      }
    });

    it('never spends one grant twice, however many dispatchers race', async () => {
      const standIn = testEnvironment().wechatStandIn;
      standIn.reset();
      const resident = await makeResident();
      const { subject: openid } = await makeMiniProgramIdentity(resident);
      standIn.grantSubscription(openid, TEMPLATE, 10); // WeChat would allow more: our grants decide
      const { request } = createTestApp();
      await request.post('/api/v1/me/subscription-grants').set('Authorization', await bearerFor(resident)).send({ templateIds: [TEMPLATE, TEMPLATE] });
      const t0 = at(dayAhead(31), '10:00');
      for (let n = 0; n < 8; n += 1) await makeNotification(resident, t0, { subscribe: subscribe(n) });
      const { instances, close } = await startInstances(3);
      try {
        const counts = await Promise.all(instances.flatMap((i) => [0, 1].map(() => dispatchDueNotifications({
          redis: i.redis, channels: { subscribe: createSubscribeChannel({ redis: i.redis, wechat: i.deps.wechat! }) }, instance: i.deps.instance, rules,
        }, t0, 2))));
        const sum = (k: string) => counts.reduce((n, c) => n + c[k]!, 0);
        expect({ sent: sum('sent'), noChannel: sum('noChannel') }).to.deep.equal({ sent: 2, noChannel: 6 });
      } finally {
        await close();
      }
      expect(standIn.sentMessages).to.have.length(2);
      const grants = await SubscriptionGrant.find({ person: resident._id }).lean();
      expect(grants).to.have.length(2);
      expect(await SubscriptionGrantUse.countDocuments({ grant: trusted({ $in: grants.map((g) => g._id) }) })).to.equal(2);
    });

    it('gives the grant back when WeChat is busy, and sends it on the retry', async () => {
      const standIn = testEnvironment().wechatStandIn;
      standIn.reset();
      const resident = await makeResident();
      const { subject: openid } = await makeMiniProgramIdentity(resident);
      standIn.grantSubscription(openid, TEMPLATE, 1);
      const { request } = createTestApp();
      await request.post('/api/v1/me/subscription-grants').set('Authorization', await bearerFor(resident)).send({ templateIds: [TEMPLATE] });
      const { instances, close } = await startInstances(1);
      try {
        const deps = { redis: redis(), channels: { subscribe: createSubscribeChannel({ redis: redis(), wechat: instances[0]!.deps.wechat! }) }, instance: 'solo', rules };
        const t0 = at(dayAhead(32), '10:00');
        const key = await makeNotification(resident, t0, { subscribe: subscribe(1) });
        standIn.failNext('/cgi-bin/message/subscribe/send', -1);
        expect(await dispatchDueNotifications(deps, t0, 10)).to.include({ retried: 1 });
        expect(await dispatchDueNotifications(deps, new Date(t0.getTime() + 60_000), 10)).to.include({ sent: 1 });
        expect(await outcomesOf(key)).to.deep.equal(['failed', 'sent']);
        expect(standIn.sentMessages).to.have.length(1);
      } finally {
        await close();
      }
    });
  });
});

describe('outbox: notify', () => {
  useCleanStorage();

  it('stores one notification per key, however often it is reported, and indexes it for its due time', async () => {
    const redis = testEnvironment().redis;
    const resident = await makeResident();
    const dueAt = at(dayAhead(40), '08:00');
    await Promise.all([1, 2, 3].map(() => notify(resident._id, 'test:once', 'test', '一次', dueAt)));
    const fresh = await notifyMany([
      { person: resident._id, key: 'test:once', kind: 'test', text: '一次', dueAt },
      { person: resident._id, key: 'test:other', kind: 'test', text: '另一条', dueAt, staleAfter: new Date(dueAt.getTime() + MINUTE) },
    ]);
    expect(fresh).to.equal(1);
    const notes = await Notification.find({ person: resident._id }).sort({ key: 1 }).lean();
    expect(notes.map((n) => n.key)).to.deep.equal(['test:once', 'test:other']);
    for (const n of notes) expect(Number(await redis.zscore(DUE_KEY, String(n._id)))).to.equal(dueAt.getTime());
  });
});

describe('outbox: the bot-contact index', () => {
  useCleanStorage();

  it('follows binding, rebinding and unbinding, and is rebuilt when Redis lost it', async () => {
    const redis = testEnvironment().redis;
    const settings = { ttlMinutes: 10, maxAttempts: 5, maxWrongCodesGlobal: 50 };
    const [a, b] = [await makeResident(), await makeResident()];
    await bindBotContact(redis, 'contact-x', (await issueBindingCode(redis, a, settings)).code, settings);
    expect(await botContactsOf(redis, [String(a._id), String(b._id)])).to.deep.equal(['contact-x', undefined]);
    // the same WeChat contact now binds to b: a is no longer reached through it
    await bindBotContact(redis, 'contact-x', (await issueBindingCode(redis, b, settings)).code, settings);
    expect(await botContactsOf(redis, [String(a._id), String(b._id)])).to.deep.equal([undefined, 'contact-x']);
    await redis.del(CONTACTS_KEY, CONTACTS_BUILT_KEY); // Redis restarted empty
    expect(await botContactsOf(redis, [String(a._id), String(b._id)])).to.deep.equal([undefined, 'contact-x']);
    await unbindBotContacts(b._id, b);
    expect(await botContactsOf(redis, [String(b._id)])).to.deep.equal([undefined]);
  });
});

describe('outbox: reminder times', () => {
  useCleanStorage();
  const day = '2031-04-10';
  const start = atShanghai(day, '10:00');
  const timings = EVENING_AND_HOUR_BEFORE('20:00');

  it('puts the evening reminder at 20:00 the day before and the other one hour before the start', () => {
    const times = reminderTimes(start, atShanghai('2031-04-01', '09:00'), timings);
    expect(times).to.deep.equal([
      { suffix: 'reminder-eve', dueAt: atShanghai('2031-04-09', '20:00') },
      { suffix: 'reminder-1h', dueAt: atShanghai(day, '09:00') },
    ]);
  });

  it('leaves out a reminder whose time came before the booking was made', () => {
    expect(reminderTimes(start, atShanghai('2031-04-09', '21:00'), timings).map((t) => t.suffix)).to.deep.equal(['reminder-1h']);
    expect(reminderTimes(start, atShanghai(day, '09:30'), timings)).to.deep.equal([]);
    // a session early in the morning: its evening reminder is still the evening before
    expect(reminderTimes(atShanghai(day, '00:30'), atShanghai('2031-04-01', '09:00'), timings)[0]!.dueAt)
      .to.deep.equal(atShanghai('2031-04-09', '20:00'));
  });

  it('gives volunteer tasks their 24-hour and 1-hour reminders', () => {
    expect(reminderTimes(start, atShanghai('2031-04-01', '09:00'), DAY_AND_HOUR_BEFORE).map((t) => t.dueAt)).to.deep.equal([
      atShanghai('2031-04-09', '10:00'), atShanghai(day, '09:00'),
    ]);
  });
});
