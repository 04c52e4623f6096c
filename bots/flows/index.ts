import type { Flow } from '../dialogue/flow.js';
import { bookingList } from './bookings.js';
import { bookChildcareFlow, cancelChildcareFlow, childcareAvailabilityFlow } from './childcare.js';
import { bookRoom, cancelRoom, rescheduleRoom, roomAvailabilityFlow } from './rooms.js';
import { mealFlows } from './meals.js';
import { mealMoveFlows } from './mealMoves.js';
import { staffFlows } from './staff.js';
import { volunteerFlows } from './volunteers.js';

/** The conversations the bot holds, by the intent that starts them. Each service adds its own. */
export const FLOWS: Record<string, Flow> = Object.fromEntries(
  [
    bookRoom, cancelRoom, rescheduleRoom, roomAvailabilityFlow, bookChildcareFlow, cancelChildcareFlow, childcareAvailabilityFlow, bookingList, ...mealFlows, ...mealMoveFlows, ...volunteerFlows, ...staffFlows,
  ].map((f) => [f.intent, f]),
);
