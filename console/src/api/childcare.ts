export interface ChildcareSession {
  id: string; centre: string; centreName: string; date: string; start: string; end: string; classType: string;
  carersOnShift: number; capacity: number; booked: number; free: number; waiting: number;
}
export interface AttendanceRow {
  id: string; status: string; childName: string; ageMonths: number | null; allergies: string[]; healthNotes: string | null;
  guardians: Array<{ name: string; relation: string }>;
  healthCheck: { temperature: number; notes: string | null; at: string } | null;
  pickedUp: { at: string; collectorName: string; collectorRelation: string } | null;
}
export interface Attendance {
  session: ChildcareSession;
  counts: { booked: number; droppedOff: number; pickedUp: number; absent: number; waiting: number };
  children: AttendanceRow[];
  waitlist: Array<{ id: string; childName: string }>;
}
/** Class types are already Chinese (乳儿班, 托小班, 托大班, 混龄). */
export const CLASS: Record<string, string> = {};
export const CHILD_STATUS: Record<string, string> = { confirmed: '待入托', dropped_off: '在园', picked_up: '已接走', cancelled: '已取消', turned_away: '晨检未通过', no_show: '缺勤' };
