import type { Types } from 'mongoose';
import type { OpeningInterval } from '../../models/openingHours.js';
import { idOf, listOf } from './fields.js';

/** The fields a room presenter reads; a hydrated document and a lean object both fit. */
export interface RoomLike {
  _id: Types.ObjectId;
  facility: Types.ObjectId | { _id: Types.ObjectId };
  name: string;
  capacity: number;
  equipment: readonly string[];
  openingHours: readonly OpeningInterval[];
  slotMinutes: number;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  maxDurationMinutes: number;
  weeklyQuotaPerResident: number;
  approvalRequired: boolean;
  approvalRequiredFor?: readonly string[] | null;
  checkInCode: string;
}

/**
 * A room as anyone signed in sees it. `staff` (the facility's staff and admins) also see the
 * check-in code; residents never do, since knowing it is what proves they came.
 */
export function presentRoom(room: RoomLike, { staff }: { staff: boolean }) {
  return {
    id: String(room._id),
    facility: idOf(room.facility),
    name: room.name,
    capacity: room.capacity,
    equipment: listOf(room.equipment),
    openingHours: listOf(room.openingHours)
      .sort((a, b) => a.weekday - b.weekday || a.open.localeCompare(b.open))
      .map((h) => ({ weekday: h.weekday, open: h.open, close: h.close })),
    slotMinutes: room.slotMinutes,
    minNoticeMinutes: room.minNoticeMinutes,
    maxAdvanceDays: room.maxAdvanceDays,
    maxDurationMinutes: room.maxDurationMinutes,
    weeklyQuotaPerResident: room.weeklyQuotaPerResident,
    approvalRequired: room.approvalRequired,
    approvalRequiredFor: [...(room.approvalRequiredFor ?? [])],
    ...(staff ? { checkInCode: room.checkInCode } : {}),
  };
}

/** A blackout as staff see it. */
export function presentBlackout(b: {
  _id: Types.ObjectId; facility: Types.ObjectId; room?: Types.ObjectId | null; start: Date; end: Date; reason: string;
}) {
  return {
    id: idOf(b._id),
    facility: idOf(b.facility),
    room: b.room ? idOf(b.room) : null,
    start: b.start,
    end: b.end,
    reason: b.reason,
  };
}
