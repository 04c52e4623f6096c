/** What the bot understood of one message: the fields of `../shared/nlu/CONTRACT.md`. */

export const INTENTS = [
  'urgent',
  'meal.book',
  'meal.cancel',
  'meal.list',
  'meal.menu',
  'childcare.book',
  'childcare.cancel',
  'childcare.availability',
  'room.book',
  'room.cancel',
  'room.availability',
  'room.reschedule',
  'meal.reschedule',
  'meal.price',
  'volunteer.tasks',
  'volunteer.claim',
  'volunteer.unclaim',
  'volunteer.register',
  'volunteer.checkin',
  'volunteer.checkout',
  'volunteer.hours',
  'booking.list',
  'help',
  'human',
  'confirm',
  'deny',
  'choice',
  'unknown',
] as const;
export type Intent = (typeof INTENTS)[number];

export type Meal = 'breakfast' | 'lunch' | 'dinner';
export type Mode = 'delivery' | 'dine_in' | 'pickup';

/** In this order in `dietary` (alphabetical, so the output is stable whatever the wording). */
export const DIETARY = ['halal', 'low_fat', 'low_salt', 'low_sugar', 'soft', 'vegetarian'] as const;
export type Dietary = (typeof DIETARY)[number];

export interface Understanding {
  intent: Intent;
  /** Every Shanghai calendar day the request covers, 'YYYY-MM-DD', sorted, no repeats. */
  dates?: string[];
  /** 'HH:MM' on a 24-hour clock. */
  start?: string;
  end?: string;
  meal?: Meal;
  mode?: Mode;
  /** Portions of a meal order. */
  quantity?: number;
  /** Attendees of a room booking; children for childcare. */
  people?: number;
  dietary?: Dietary[];
  /** Present (true) when the booking is for someone else: 帮我妈订, 给我爸. */
  forOther?: true;
  /** The number picked from a numbered menu. */
  choice?: number;
}
