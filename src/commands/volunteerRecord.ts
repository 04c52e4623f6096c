import type { Types } from 'mongoose';
import { VolunteerRecordCache, VolunteerRecordStamp } from '../../models/volunteerRecordCache.js';
export { markVolunteerRecordChanged } from './volunteerRecordStamp.js';
import { markVolunteerRecordChanged } from './volunteerRecordStamp.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { pad, shanghaiFields } from '../../models/calendar.js';
import type { PersonFields } from '../../models/person.js';
import { VolunteerAssignment, type VolunteerAssignmentStatus } from '../../models/volunteerAssignment.js';
import { VolunteerTask, type VolunteerTaskType } from '../../models/volunteerTask.js';
import { VOLUNTEER_DEFAULTS } from '../config.js';
import { timeBankBalance } from './timeBank.js';
import { ASSIGNMENT_LABELS } from './volunteerAssignments.js';
import { TASK_TYPE_LABELS } from './volunteerTasks.js';
import { countAbsences, minutesToHours, shanghaiYear, totalsOfApproved, volunteerTotals, type VolunteerRules, type VolunteerTotals } from './volunteers.js';

/** Assignments that belong on a service record: served (reviewed or not) and absences. */
const RECORDED: VolunteerAssignmentStatus[] = ['checked_out', 'approved', 'declined', 'absent'];

export interface ServiceRecord {
  volunteer: { id: string; name: string; skills: string[]; registeredAt: Date | null; verifiedAt: Date | null };
  totals: VolunteerTotals;
  timeBankHours: number;
  absencesThisYear: number;
  tasks: Array<{
    assignment: string;
    task: string;
    title: string;
    type: VolunteerTaskType;
    typeLabel: string;
    place: string;
    start: Date;
    end: Date;
    status: VolunteerAssignmentStatus;
    statusLabel: string;
    attendedHours: number | null;
    approvedHours: number | null;
    points: number | null;
    declineReason: string | null;
    autoCheckedOut: boolean;
  }>;
  generatedAt: Date;
}

/** Task reads in flight at once for one record. */
const TASK_READS_AT_ONCE = 20;

/**
 * The tasks of a volunteer's assignments, one `_id` read per distinct task (answered from the
 * jsonb index): `_id: {$in}` decoded every task the community ever published.
 */
async function tasksByIds(ids: Types.ObjectId[]) {
  const distinct = [...new Set(ids.map(String))];
  const out = new Map<string, { title: string; type: VolunteerTaskType; place: string }>();
  for (let i = 0; i < distinct.length; i += TASK_READS_AT_ONCE) {
    const batch = await Promise.all(distinct.slice(i, i + TASK_READS_AT_ONCE).map((id) => VolunteerTask.findById(id).select('title type place').lean()));
    for (const t of batch) if (t) out.set(String(t._id), { title: t.title, type: t.type as VolunteerTaskType, place: t.place });
  }
  return out;
}

type RecordRows = Pick<ServiceRecord, 'totals' | 'tasks'>;

/**
 * The rows and totals: stored ones while the volunteer's stamp holds the token they were
 * computed under, else computed from the assignments (token read first) and stored.
 */
async function recordRows(person: PersonFields, rules: VolunteerRules): Promise<RecordRows> {
  const [stamp, kept] = await Promise.all([
    VolunteerRecordStamp.findById(person._id).lean(),
    VolunteerRecordCache.findById(person._id).lean(),
  ]);
  const token = stamp?.token ?? null;
  if (kept && (kept.stamp ?? null) === token) return { totals: kept.totals as VolunteerTotals, tasks: kept.tasks as ServiceRecord['tasks'] };
  return storeRecordRows(person, rules, token);
}

/**
 * A volunteer's hours, points and stars (志愿者资料 /volunteers/me, /volunteers/{id}): kept on the
 * volunteer's VolunteerRecordStamp with the token they were computed under, so a view reads that
 * one small document while no assignment changed; else from the approved assignments (one
 * `{volunteer, status}` read, as before), stored only if the token is still the one read before
 * (a racing change makes the store miss, never serves stale figures). Stars and the hours to the
 * next follow the current rules. Reading every approved assignment on every view grew with the
 * volunteer's history.
 */
export async function volunteerFigures(person: PersonFields, rules: Pick<VolunteerRules, 'starHours'> = VOLUNTEER_DEFAULTS): Promise<VolunteerTotals> {
  let stamp = await VolunteerRecordStamp.findById(person._id).lean();
  if (!stamp) {
    // A volunteer nothing has changed for yet: give them a token to compute under.
    await markVolunteerRecordChanged(person._id);
    stamp = await VolunteerRecordStamp.findById(person._id).lean();
  }
  const kept = stamp?.figures as { token?: string; totals?: VolunteerTotals } | undefined;
  if (stamp && kept?.token === stamp.token && kept.totals) return withRules(kept.totals, rules);
  const totals = await volunteerTotals(person._id, rules);
  if (stamp) await VolunteerRecordStamp.updateOne({ _id: person._id, token: stamp.token }, { $set: { figures: { token: stamp.token, totals } } });
  return totals;
}

/** The totals' stars and hours to the next star under `rules` (the stored ones may predate a change of them). */
function withRules(t: VolunteerTotals, rules: Pick<VolunteerRules, 'starHours'>): VolunteerTotals {
  const again = totalsOfApproved([{ approvedMinutes: t.approvedMinutes, points: t.points }], rules);
  return { ...t, stars: again.stars, hoursToNextStar: again.hoursToNextStar };
}

/** Computes the rows and totals and stores them under `token` (the stamp read before computing). */
async function storeRecordRows(person: PersonFields, rules: Pick<VolunteerRules, 'starHours'>, token: string | null): Promise<RecordRows> {
  const rows = await computeRecordRows(person, rules);
  try {
    await VolunteerRecordCache.replaceOne({ _id: person._id }, { _id: person._id, stamp: token, computedAt: new Date(), ...rows }, { upsert: true });
  } catch (err) {
    // Another view stored it at the same moment: either is as fresh as its token.
    if (!isDuplicateKey(err)) throw err;
  }
  return rows;
}

/** The rows and totals from the volunteer's assignments (`{volunteer}`, once) and their tasks. */
async function computeRecordRows(person: PersonFields, rules: Pick<VolunteerRules, 'starHours'>): Promise<RecordRows> {
  const all = await VolunteerAssignment.find({ volunteer: person._id })
    .select('task start end status attendedMinutes approvedMinutes points declineReason flag').lean();
  const assignments = all.filter((a) => RECORDED.includes(a.status)).sort((a, b) => a.start.getTime() - b.start.getTime());
  const totals = totalsOfApproved(assignments.filter((a) => a.status === 'approved'), rules);
  const tasks = await tasksByIds(assignments.map((a) => a.task));
  return {
    totals,
    tasks: assignments.map((a) => {
      const t = tasks.get(String(a.task));
      const type = (t?.type ?? 'event') as VolunteerTaskType;
      return {
        assignment: String(a._id),
        task: String(a.task),
        title: t?.title ?? '',
        type,
        typeLabel: TASK_TYPE_LABELS[type],
        place: t?.place ?? '',
        start: a.start,
        end: a.end,
        status: a.status,
        statusLabel: ASSIGNMENT_LABELS[a.status],
        attendedHours: a.attendedMinutes === undefined || a.attendedMinutes === null ? null : minutesToHours(a.attendedMinutes),
        approvedHours: a.status === 'approved' ? minutesToHours(a.approvedMinutes ?? 0) : null,
        points: a.status === 'approved' ? a.points ?? 0 : null,
        declineReason: a.declineReason ?? null,
        autoCheckedOut: a.flag?.reason === 'auto_check_out',
      };
    }),
  };
}

/**
 * A volunteer's service record (志愿服务记录): tasks served, hours, points and stars. The rows
 * and totals from the read model (two `_id` reads while fresh), the time bank balance and this
 * year's absences read live.
 */
export async function serviceRecord(person: PersonFields, rules: VolunteerRules = VOLUNTEER_DEFAULTS, now = new Date()): Promise<ServiceRecord> {
  const [{ totals, tasks }, balance, absences] = await Promise.all([
    recordRows(person, rules),
    timeBankBalance(person._id),
    countAbsences(person._id, shanghaiYear(now)),
  ]);
  return {
    volunteer: {
      id: String(person._id),
      name: person.name ?? '',
      skills: [...(person.volunteer?.skills ?? [])],
      registeredAt: person.volunteer?.registeredAt ?? null,
      verifiedAt: person.volunteer?.verifiedAt ?? null,
    },
    totals,
    timeBankHours: minutesToHours(balance),
    absencesThisYear: absences,
    tasks,
    generatedAt: now,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/**
 * A Shanghai date or time for the page: 'YYYY-MM-DD', 'HH:mm' or 'YYYY年M月D日' by field
 * arithmetic (shanghaiFields); dayjs's timezone plugin builds an Intl formatter on every call,
 * three per row, which made the page's cost grow with the volunteer's history.
 */
const fmt = (d: Date | null, pattern: 'YYYY-MM-DD' | 'HH:mm' | 'YYYY年M月D日' = 'YYYY年M月D日') => {
  if (!d) return '—';
  const f = shanghaiFields(d);
  if (pattern === 'YYYY-MM-DD') return `${f.year}-${pad(f.month)}-${pad(f.day)}`;
  if (pattern === 'HH:mm') return `${pad(f.hour)}:${pad(f.minute)}`;
  return `${f.year}年${f.month}月${f.day}日`;
};
const stars = (n: number) => (n > 0 ? '★'.repeat(n) : '暂无星级');

/** The record as a printable page (A4, Chinese), for a volunteer to print or save as PDF. */
export function renderServiceRecordHtml(record: ServiceRecord, communityName = ''): string {
  const rows = record.tasks.map((t) => `
      <tr>
        <td>${fmt(t.start, 'YYYY-MM-DD')}<br><small>${fmt(t.start, 'HH:mm')}–${fmt(t.end, 'HH:mm')}</small></td>
        <td>${escapeHtml(t.title)}<br><small>${escapeHtml(t.typeLabel)} · ${escapeHtml(t.place)}</small></td>
        <td class="num">${t.attendedHours ?? '—'}</td>
        <td class="num">${t.approvedHours ?? '—'}</td>
        <td class="num">${t.points ?? '—'}</td>
        <td>${escapeHtml(t.statusLabel)}${t.declineReason ? `<br><small>原因：${escapeHtml(t.declineReason)}</small>` : ''}${t.autoCheckedOut ? '<br><small>系统自动签退</small>' : ''}</td>
      </tr>`).join('');
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>志愿服务记录 · ${escapeHtml(record.volunteer.name)}</title>
<style>
  body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; color: #222; margin: 2em; }
  h1 { font-size: 1.6em; text-align: center; margin-bottom: 0.2em; }
  .sub { text-align: center; color: #555; margin-top: 0; }
  dl { display: grid; grid-template-columns: 8em 1fr 8em 1fr; gap: 0.4em 1em; margin: 1.5em 0; }
  dt { color: #555; } dd { margin: 0; font-weight: bold; }
  table { width: 100%; border-collapse: collapse; font-size: 0.95em; }
  th, td { border: 1px solid #999; padding: 0.4em 0.5em; vertical-align: top; text-align: left; }
  th { background: #f0f0f0; } td.num { text-align: right; } small { color: #555; }
  .stars { color: #c8102e; }
  footer { margin-top: 2em; display: flex; justify-content: space-between; color: #555; }
  @page { size: A4; margin: 15mm; }
  @media print { body { margin: 0; } .no-print { display: none; } tr { page-break-inside: avoid; } th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
</style>
</head>
<body>
<p class="no-print">提示：使用浏览器的「打印」功能即可打印或保存为 PDF。</p>
<h1>志愿服务记录</h1>
<p class="sub">${escapeHtml(communityName)}</p>
<dl>
  <dt>志愿者</dt><dd>${escapeHtml(record.volunteer.name)}</dd>
  <dt>注册日期</dt><dd>${fmt(record.volunteer.registeredAt ?? record.volunteer.verifiedAt)}</dd>
  <dt>服务技能</dt><dd>${escapeHtml(record.volunteer.skills.join('、') || '—')}</dd>
  <dt>星级</dt><dd class="stars">${stars(record.totals.stars)}</dd>
  <dt>累计服务时长</dt><dd>${record.totals.hours} 小时</dd>
  <dt>累计积分</dt><dd>${record.totals.points} 分</dd>
  <dt>服务次数</dt><dd>${record.totals.tasksServed} 次</dd>
  <dt>时间银行余额</dt><dd>${record.timeBankHours} 小时</dd>
</dl>
<table>
  <thead><tr><th>日期</th><th>任务</th><th>在岗时长（小时）</th><th>认定时长（小时）</th><th>积分</th><th>状态</th></tr></thead>
  <tbody>${rows || '\n      <tr><td colspan="6">暂无服务记录</td></tr>'}
  </tbody>
</table>
<footer><span>星级按累计认定时长评定（《中国社区志愿者注册管理办法》）</span><span>打印日期：${fmt(record.generatedAt)}</span></footer>
</body>
</html>
`;
}
