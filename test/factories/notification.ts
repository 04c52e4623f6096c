import { Types } from 'mongoose';
import {
  Identity, RoomBooking, type IdentityDoc, type PersonDoc, type RoomBookingDoc, type RoomDoc,
} from '../../models/index.js';
import { notify, type NotifyOptions } from '../../src/commands/notify.js';
import { weekOf } from '../../src/booking/time.js';
import { nextSeq } from './sequence.js';

/**
 * A confirmed room booking stored as it is (no claims): for the jobs that read bookings, such
 * as the reminders. `bookedAt` is its createdAt (the reminder rules compare with it).
 */
export async function makeRoomBookingRecord(
  room: RoomDoc,
  person: PersonDoc,
  start: Date,
  minutes = 60,
  bookedAt = new Date(start.getTime() - 3 * 86_400_000),
): Promise<RoomBookingDoc> {
  const facility = await room.populate('facility');
  const community = (facility.facility as unknown as { community: Types.ObjectId }).community;
  const [doc] = await RoomBooking.insertMany([{
    room: room._id, facility: (facility.facility as unknown as { _id: Types.ObjectId })._id, community,
    bookedFor: person._id, bookedBy: person._id, start, end: new Date(start.getTime() + minutes * 60_000),
    purpose: `测试活动${nextSeq()}`, attendees: 5, status: 'confirmed', quotaWeek: weekOf(start),
    createdAt: bookedAt, updatedAt: bookedAt,
  }], { timestamps: false });
  await room.depopulate('facility');
  return doc as unknown as RoomBookingDoc;
}

/** The person's mini-program sign-in (openid), as a first wx.login creates it. */
export function makeMiniProgramIdentity(person: PersonDoc, openid = `openid-${nextSeq()}`): Promise<IdentityDoc> {
  return Identity.create({ provider: 'wechat_miniprogram', subject: openid, person: person._id });
}

/** A notification in the outbox (and the Redis due-index), as a service would write it. */
export async function makeNotification(person: PersonDoc, dueAt: Date, options: NotifyOptions & { key?: string; text?: string } = {}) {
  const { key = `test:${nextSeq()}`, text = '测试通知', ...rest } = options;
  await notify(person._id, key, 'test', text, dueAt, rest);
  return key;
}
