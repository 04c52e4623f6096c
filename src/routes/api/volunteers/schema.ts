import Joi from 'joi';
import { VOLUNTEER_ASSIGNMENT_STATUSES } from '../../../../models/volunteerAssignment.js';
import { VOLUNTEER_TASK_STATUSES, VOLUNTEER_TASK_TYPES } from '../../../../models/volunteerTask.js';
import { TIME_BANK_KINDS } from '../../../../models/timeBankEntry.js';
import { DAY_PATTERN, isDay } from '../../../../models/calendar.js';
import { objectId, ownListPage } from '../common.js';


export const PersonParams = Joi.object({ personId: objectId().required().label('志愿者') });
export const TaskParams = Joi.object({ taskId: objectId().required().label('任务') });
export const AssignmentParams = Joi.object({ assignmentId: objectId().required().label('志愿服务记录') });
export const AbsenceParams = Joi.object({ absenceId: objectId().required().label('缺勤记录') });

const time = (label: string) => Joi.date().iso().label(label);
const reason = (label = '原因') => Joi.string().trim().min(1).max(200).label(label);
const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const hours = (label: string) => Joi.number().precision(2).label(label).messages({ 'number.precision': '{{#label}}最多保留两位小数' });

const skills = Joi.array().items(Joi.string().trim().min(1).max(20).label('技能')).unique().max(20).label('技能');
const availability = Joi.array().items(
  Joi.object({
    weekday: Joi.number().integer().min(0).max(6).required().label('星期（0 为周日）'),
    from: Joi.string().pattern(HHMM).required().label('开始时间').messages({ 'string.pattern.base': '{{#label}}应为 HH:mm，例如 09:00' }),
    to: Joi.string().pattern(HHMM).required().label('结束时间').messages({ 'string.pattern.base': '{{#label}}应为 HH:mm，例如 12:00' }),
  })
    .custom((w: { from: string; to: string }, helpers) => (w.to > w.from ? w : helpers.error('any.invalid')))
    .messages({ 'any.invalid': '服务时间段的结束时间应晚于开始时间' })
    .label('服务时间段'),
).max(21).label('可服务时间');

const profile = {
  skills,
  availability,
  availabilityNote: Joi.string().trim().max(200).allow('').label('服务时间说明'),
  photoUrl: Joi.string().trim().uri({ scheme: ['https'] }).max(500).allow(null).label('照片地址'),
};

export const RegisterVolunteerBody = Joi.object({ ...profile, skills: skills.min(1).required() });
export const UpdateVolunteerBody = Joi.object(profile).min(1);
export const ListVolunteersQuery = Joi.object({
  state: Joi.string().valid('pending', 'verified', 'suspended').label('状态'),
  limit: Joi.number().integer().min(1).max(100).default(50).label('数量'),
  offset: Joi.number().integer().min(0).max(100_000).default(0).label('跳过'),
});
export const SuspendBody = Joi.object({ reason: reason().required(), until: time('暂停至') });
export const ExcuseBody = Joi.object({ reason: reason().required() });

export const REDEEM_SERVICES = { meal: '助餐', childcare: '托育', room: '活动室', home_care: '居家照护', other: '其他' } as const;
export const RedeemBody = Joi.object({
  hours: hours('兑换时长（小时）').greater(0).max(1000).required(),
  service: Joi.string().valid(...Object.keys(REDEEM_SERVICES)).required().label('兑换的服务'),
  forPerson: objectId().label('服务对象（本人或家人）'),
  note: Joi.string().trim().max(200).label('备注'),
});
export const AdjustBody = Joi.object({
  hours: hours('调整时长（小时，可为负数）').min(-1000).max(1000).invalid(0).required()
    .messages({ 'any.invalid': '{{#label}}不能为 0' }),
  reason: reason().required(),
});
export const LedgerQuery = Joi.object({ limit: Joi.number().integer().min(1).max(500).default(100).label('数量') });

export const CreateTaskBody = Joi.object({
  facilityId: objectId().label('服务场所'),
  type: Joi.string().valid(...VOLUNTEER_TASK_TYPES).required().label('任务类型'),
  title: Joi.string().trim().min(1).max(60).required().label('任务名称'),
  description: Joi.string().trim().max(1000).allow('').label('任务说明'),
  place: Joi.string().trim().min(1).max(100).required().label('地点'),
  start: time('开始时间').required(),
  end: time('结束时间').required().greater(Joi.ref('start')).messages({ 'date.greater': '「结束时间」应晚于开始时间' }),
  peopleNeeded: Joi.number().integer().min(1).max(200).required().label('需要人数'),
  skillsRequired: skills,
});
export const UpdateTaskBody = Joi.object({
  title: Joi.string().trim().min(1).max(60).label('任务名称'),
  description: Joi.string().trim().max(1000).allow('').label('任务说明'),
  place: Joi.string().trim().min(1).max(100).label('地点'),
  peopleNeeded: Joi.number().integer().min(1).max(200).label('需要人数'),
  skillsRequired: skills,
}).min(1);
export const ListTasksQuery = Joi.object({
  status: Joi.string().valid(...VOLUNTEER_TASK_STATUSES).label('状态'),
  type: Joi.string().valid(...VOLUNTEER_TASK_TYPES).label('任务类型'),
  facility: objectId().label('服务场所'),
  from: time('开始时间不早于'),
  to: time('开始时间早于'),
  limit: Joi.number().integer().min(1).max(100).default(50).label('数量'),
  offset: Joi.number().integer().min(0).max(100_000).default(0).label('跳过'),
});
export const CancelTaskBody = Joi.object({ reason: reason().required() });
export const AssignBody = Joi.object({ volunteerId: objectId().required().label('志愿者') });
export const UnassignBody = Joi.object({ reason: reason().required() });
export const SiteCodeBody = Joi.object({ code: Joi.string().pattern(/^\d{6}$/).required().label('签到码').messages({ 'string.pattern.base': '「签到码」应为 6 位数字' }) });
export const ApproveBody = Joi.object({ hours: hours('认定时长（小时）').min(0).max(12) });
export const DeclineBody = Joi.object({ reason: reason().required() });
export const AssignmentsQuery = Joi.object({
  status: Joi.string().valid(...VOLUNTEER_ASSIGNMENT_STATUSES).label('状态'),
  limit: Joi.number().integer().min(1).max(200).default(50).label('数量'),
  offset: Joi.number().integer().min(0).max(100_000).default(0).label('跳过'),
});
/** A volunteer's own list: today on (default) or the history, a page at a time. */
export const MyAssignmentsQuery = AssignmentsQuery.keys(ownListPage);
/** The staff list: AssignmentsQuery and one volunteer's assignments (the console's 志愿者时间银行). */
export const StaffAssignmentsQuery = AssignmentsQuery.keys({
  volunteer: objectId().label('志愿者').description('One volunteer of the caller\'s community: newest first (by start)'),
});
export const MonthlyVisitsBody = Joi.object({
  date: Joi.string().pattern(DAY_PATTERN)
    .custom((v: string, helpers) => (isDay(v) ? v : helpers.error('string.pattern.base')))
    .label('日期').messages({ 'string.pattern.base': '「日期」应为 YYYY-MM-DD，例如 2026-03-01' })
    .description('Any day of the month to create the visits for; default today (Shanghai)'),
});

/* ------------------------------------------------------------------ responses */

const Totals = Joi.object({ hours: Joi.number(), points: Joi.number(), stars: Joi.number().integer(), hoursToNextStar: Joi.number().allow(null), tasksServed: Joi.number() })
  .meta({ className: 'VolunteerTotals' });

export const VolunteerResponse = Joi.object({
  id: Joi.string(), name: Joi.string().allow(null), phone: Joi.string().allow(null), community: Joi.string().allow(null),
  skills: Joi.array().items(Joi.string()),
  availability: Joi.array().items(Joi.object({ weekday: Joi.number(), from: Joi.string(), to: Joi.string() })),
  availabilityNote: Joi.string().allow(null, ''), photoUrl: Joi.string().allow(null),
  registeredAt: Joi.date().allow(null), verified: Joi.boolean(), verifiedAt: Joi.date().allow(null),
  suspended: Joi.boolean(), suspendedUntil: Joi.date().allow(null), suspendedReason: Joi.string().allow(null),
  totals: Totals.optional().description('Where the answer counts them'),
}).meta({ className: 'Volunteer' });

export const TaskResponse = Joi.object({
  id: Joi.string(), community: Joi.string(), facility: Joi.string().allow(null),
  type: Joi.string().valid(...VOLUNTEER_TASK_TYPES), typeLabel: Joi.string(), title: Joi.string(), description: Joi.string().allow(''),
  place: Joi.string(), start: Joi.date(), end: Joi.date(), peopleNeeded: Joi.number(), claimed: Joi.number(), remaining: Joi.number(),
  skillsRequired: Joi.array().items(Joi.string()), status: Joi.string().valid(...VOLUNTEER_TASK_STATUSES),
  source: Joi.string().allow(null), cancelReason: Joi.string().allow(null),
  siteCode: Joi.string().optional().description('Staff of the task only'), visitFor: Joi.string().allow(null).optional().description('Staff of the task only'),
  myAssignment: Joi.object({ id: Joi.string(), status: Joi.string() }).allow(null).optional().description('For a volunteer viewing the task'),
}).meta({ className: 'VolunteerTask' });

export const AssignmentResponse = Joi.object({
  id: Joi.string(), task: Joi.string(), volunteer: Joi.string(), taskTitle: Joi.string().optional(), place: Joi.string().optional(), type: Joi.string().optional(),
  start: Joi.date(), end: Joi.date(), status: Joi.string().valid(...VOLUNTEER_ASSIGNMENT_STATUSES), statusLabel: Joi.string(),
  assignedBy: Joi.string(), checkedInAt: Joi.date().allow(null), checkedOutAt: Joi.date().allow(null),
  attendedHours: Joi.number().allow(null), hoursEligible: Joi.boolean().allow(null), approvedHours: Joi.number().allow(null),
  points: Joi.number().allow(null), declineReason: Joi.string().allow(null), reviewedAt: Joi.date().allow(null),
  flag: Joi.object({ reason: Joi.string(), at: Joi.date() }).allow(null),
}).meta({ className: 'VolunteerAssignment' });

export const ReleaseResponse = Joi.object({
  assignment: AssignmentResponse,
  late: Joi.boolean().description('Released after the cut-off: counted as an absence'),
  suspended: Joi.boolean().description('This absence suspended the volunteer'),
}).meta({ className: 'VolunteerRelease' });

export const LedgerEntryResponse = Joi.object({
  seq: Joi.number(), kind: Joi.string().valid(...TIME_BANK_KINDS), hours: Joi.number(), balanceHours: Joi.number(),
  reason: Joi.string().allow(null), service: Joi.string().allow(null), beneficiary: Joi.string().allow(null),
  assignment: Joi.string().allow(null), at: Joi.date(),
}).meta({ className: 'TimeBankEntry' });
export const TimeBankResponse = Joi.object({
  balanceHours: Joi.number(), entries: Joi.array().items(LedgerEntryResponse),
}).meta({ className: 'TimeBank' });

export const AbsenceResponse = Joi.object({
  id: Joi.string(), volunteer: Joi.string(), assignment: Joi.string(), task: Joi.string(),
  kind: Joi.string().valid('late_release', 'no_show'), at: Joi.date(), year: Joi.number(), excused: Joi.boolean(), excuseReason: Joi.string().allow(null),
}).meta({ className: 'VolunteerAbsence' });

export const RecordResponse = Joi.object({
  volunteer: Joi.object({ id: Joi.string(), name: Joi.string().allow(''), skills: Joi.array().items(Joi.string()), registeredAt: Joi.date().allow(null), verifiedAt: Joi.date().allow(null) }),
  totals: Joi.object({ approvedMinutes: Joi.number(), hours: Joi.number(), points: Joi.number(), stars: Joi.number(), hoursToNextStar: Joi.number().allow(null), tasksServed: Joi.number() }),
  timeBankHours: Joi.number(),
  absencesThisYear: Joi.number(),
  tasks: Joi.array().items(Joi.object({
    assignment: Joi.string(), task: Joi.string(), title: Joi.string(), type: Joi.string(), typeLabel: Joi.string(), place: Joi.string(),
    start: Joi.date(), end: Joi.date(), status: Joi.string(), statusLabel: Joi.string(), attendedHours: Joi.number().allow(null),
    approvedHours: Joi.number().allow(null), points: Joi.number().allow(null), declineReason: Joi.string().allow(null), autoCheckedOut: Joi.boolean(),
  })),
  generatedAt: Joi.date(),
}).meta({ className: 'VolunteerServiceRecord' });
