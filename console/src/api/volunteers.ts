/** Volunteer shapes the console reads (VolunteerTask, RosterVolunteerAssignment, DeliveryRun in /openapi.json). */
export interface VolunteerTask {
  id: string; community: string; facility: string | null; type: string; typeLabel: string; title: string; description: string;
  place: string; start: string; end: string; peopleNeeded: number; claimed: number; remaining: number; skillsRequired: string[];
  status: 'open' | 'full' | 'cancelled' | 'done'; source: string | null; cancelReason: string | null; siteCode?: string; visitFor?: string | null;
}
export interface RosterEntry {
  id: string; task: string; volunteer: string; volunteerName: string | null; status: string; statusLabel: string;
  checkedInAt: string | null; checkedOutAt: string | null;
}
export interface DeliveryRun {
  id: string; menu: string; kitchen: string; date: string; meal: string; grid: string; portions: number;
  stops: Array<{ order: string; person: string; building: string | null; unit: string | null; room: string | null; quantity: number }>;
  volunteerTask: string | null;
}

export const TASK_TYPES: Record<string, string> = { meal_delivery: '送餐', elderly_visit: '探访', room_setup: '场地布置', childcare_helper: '托育助教', event: '活动' };
export const TASK_STATUS: Record<string, string> = { open: '招募中', full: '已满员', cancelled: '已取消', done: '已结束' };
/** Roster entries that still hold a place on the task (the others left, were taken off or were absent). */
export const HOLDS_PLACE = new Set(['claimed', 'checked_in', 'checked_out', 'approved', 'declined']);

/** What time-bank hours may be redeemed for (REDEEM_SERVICES in src/routes/api/volunteers/schema.ts). */
export const REDEEM_SERVICES: Record<string, string> = { meal: '助餐', childcare: '托育', room: '活动室', home_care: '居家照护', other: '其他' };

/** A volunteer as `GET /volunteers` and `GET /volunteers/:id` answer (Volunteer in /openapi.json). */
export interface Volunteer {
  id: string; name: string | null; verified: boolean; suspended: boolean; suspendedUntil: string | null; suspendedReason: string | null;
}
export interface LedgerEntry { seq: number; kind: string; hours: number; balanceHours: number; reason: string | null; service: string | null; at: string }
export interface Absence { id: string; kind: string; at: string; year: number; excused: boolean; excuseReason: string | null }

/** One of a volunteer's assignments, as `GET /volunteer-assignments?volunteer=` answers (StaffVolunteerAssignment). */
export interface VolunteerClaim {
  id: string; task: string; taskTitle?: string; place?: string; type?: string; start: string; end: string; status: string; statusLabel: string;
  checkedInAt: string | null; checkedOutAt: string | null; attendedHours: number | null; approvedHours: number | null;
  declineReason: string | null; flag: { reason: string; at: string } | null;
}
