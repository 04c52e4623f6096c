import { Room, type FacilityDoc, type RoomDoc, type RoomFields } from '../../models/index.js';
import { makeFacility } from './community.js';
import { nextSeq } from './sequence.js';

/** A room of `facility` (a new community centre when omitted), open 08:00–20:00 every day. */
export async function makeRoom(facility?: FacilityDoc, overrides: Partial<RoomFields> = {}): Promise<RoomDoc> {
  const owner = facility ?? (await makeFacility());
  return Room.create({
    facility: owner._id,
    name: `测试活动室${nextSeq()}`,
    capacity: 20,
    equipment: ['投影仪'],
    openingHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open: '08:00', close: '20:00' })),
    ...overrides,
  });
}
