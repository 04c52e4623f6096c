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
