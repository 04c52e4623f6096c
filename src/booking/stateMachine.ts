import type { Types } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { ConflictError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';

/** Which moves a booking may make; anything else is refused (409 invalid_transition). */
export type Transitions<S extends string> = Record<S, readonly S[]>;

interface Transitionable<S extends string> {
  _id: Types.ObjectId;
  status: S;
  version: number;
}

const LABELS: Record<string, string> = {
  pending: '待审核', confirmed: '已确认', checked_in: '已签到', completed: '已完成',
  cancelled: '已取消', rejected: '已拒绝', released_no_show: '未到场已释放',
  delivered: '已送达', not_at_home: '不在家', needs_attention: '需要关注', open: '待处理', closed: '已处理',
};

/**
 * Moves a booking from its current status to `to`, once: the move claims the slot
 * `version + 1` under `state:<id>`, so of two racing moves (cancel vs check-in, two staff
 * approving) exactly one happens and the other gets 409. Returns the update to apply.
 */
export async function claimTransition<S extends string>(
  booking: Transitionable<S>,
  to: S,
  transitions: Transitions<S>,
  by: Types.ObjectId | string,
  reason?: string,
) {
  if (!transitions[booking.status].includes(to)) {
    throw ConflictError(`该预约当前状态为「${LABELS[booking.status] ?? booking.status}」，不能改为「${LABELS[to] ?? to}」`, 'invalid_transition');
  }
  try {
    await CapacityClaim.create({ key: `state:${booking._id}`, slot: booking.version + 1, holder: booking._id });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    throw ConflictError('该预约刚刚被其他操作修改，请刷新后重试', 'booking_changed');
  }
  return {
    $set: { status: to, version: booking.version + 1 },
    $push: { history: { from: booking.status, to, at: new Date(), by, reason } },
  };
}
