import { AppError } from '../../src/errors.js';
import { trusted } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { VolunteerAssignment, type VolunteerAssignmentStatus } from '../../models/volunteerAssignment.js';
import { VolunteerTask, type VolunteerTaskType } from '../../models/volunteerTask.js';
import { rangeLabel } from '../../src/booking/time.js';
import { timeBankBalance, hoursLabel } from '../../src/commands/timeBank.js';
import {
  checkInAssignment, checkOutAssignment, claimVolunteerTask, findAssignment, releaseAssignment,
} from '../../src/commands/volunteerAssignments.js';
import { findVolunteerTask, listVolunteerTasks } from '../../src/commands/volunteerTasks.js';
import { registerVolunteer } from '../../src/commands/volunteers.js';
import { volunteerFigures } from '../../src/commands/volunteerRecord.js';
import { absorbFields, type Choice, type Flow, type Step, type Turn } from '../dialogue/flow.js';

const rules = (turn: Turn) => turn.deps.config.volunteers;
const onDays = (dates: unknown, at: Date) => !Array.isArray(dates) || !dates.length || dates.includes(shanghaiDay(at));

/** The kind of task a volunteer names (的送餐我报名, 探访我去). */
const TASK_WORDS: Array<[RegExp, VolunteerTaskType]> = [
  [/送餐|送饭/, 'meal_delivery'], [/探访|看望|走访/, 'elderly_visit'], [/布置|摆桌椅|搬桌子/, 'room_setup'], [/托育|托管|看孩子|带孩子/, 'childcare_helper'],
];

/** Open tasks of the person's community from now on (on the days asked), as numbered choices. */
async function openTaskChoices(turn: Turn, dates: unknown, type: unknown): Promise<Choice[]> {
  if (!turn.person.community) return [];
  const { items } = await listVolunteerTasks({ community: turn.person.community, status: 'open', from: turn.now, limit: 30, offset: 0 });
  const mine = new Set((await assignmentsOf(turn, ['claimed', 'checked_in'])).map((a) => String(a.task)));
  return items
    .filter((t) => onDays(dates, t.start) && (!type || t.type === type) && !mine.has(String(t._id)))
    .slice(0, 8)
    .map((t) => ({ label: `${t.title}（${rangeLabel(t.start, t.end)}，${t.place}，还差${Math.max(t.peopleNeeded - (t.claimedCount ?? 0), 0)}人）`, value: String(t._id) }));
}

/** The volunteer's assignments in `statuses`, soonest first. */
function assignmentsOf(turn: Turn, statuses: VolunteerAssignmentStatus[]) {
  return VolunteerAssignment.find({ volunteer: turn.person._id, status: trusted({ $in: statuses }) }).sort({ start: 1 }).limit(20).lean();
}

/** 志愿活动 / 报名: the open tasks by number; a number (or the one task of the day named) is claimed after 确认. */
function claimFlow(intent: 'volunteer.tasks' | 'volunteer.claim'): Flow {
  return {
    intent,
    absorb(slots, u, turn) {
      const type = TASK_WORDS.find(([words]) => words.test(turn.text))?.[1];
      if (type) slots.taskType = type;
      return absorbFields(slots, u, ['dates']);
    },
    async next(turn, slots): Promise<Step> {
      if (!slots.taskId) {
        const choices = await openTaskChoices(turn, slots.dates, slots.taskType);
        if (!choices.length) return { kind: 'done', text: slots.dates ? '那天没有还缺人的志愿任务。发“志愿活动”看看其他时间的。' : '现在没有还缺人的志愿任务，有新任务时志愿者群里会通知。' };
        if (choices.length > 1 || intent === 'volunteer.tasks') return { kind: 'ask', slot: 'taskId', text: '这些志愿任务还缺人，想报名哪个？', choices };
        slots.taskId = choices[0]!.value;
      }
      const task = await findVolunteerTask(slots.taskId as string);
      return { kind: 'confirm', text: `报名「${task.title}」？\n时间：${rangeLabel(task.start, task.end)}\n地点：${task.place}\n回复“确认”报名，“返回”重新选择。` };
    },
    async execute(turn, slots) {
      const task = await findVolunteerTask(slots.taskId as string);
      await claimVolunteerTask(task, turn.person, turn.user, turn.now);
      return `报名成功！「${task.title}」${rangeLabel(task.start, task.end)}，${task.place}。开始前 1 小时起可以签到：到现场后发“我到了”。不能去请在开始前 ${rules(turn).releaseCutoffHours} 小时发“退出”。`;
    },
  };
}

/** 去不了，退出: which claimed task (by number when several), then 确认; late releases count as an absence. */
export const unclaimTask: Flow = {
  intent: 'volunteer.unclaim',
  absorb(slots, u, turn) {
    // 文艺汇演我去不了: the task's name picks it among several.
    if (!slots.said) slots.said = turn.text.slice(0, 60);
    return absorbFields(slots, u, ['dates']);
  },
  async next(turn, slots) {
    if (!slots.assignmentId) {
      const mine = (await assignmentsOf(turn, ['claimed'])).filter((a) => a.end > turn.now && onDays(slots.dates, a.start));
      if (!mine.length) return { kind: 'done', text: '您没有可以退出的志愿任务。' };
      const tasks = await VolunteerTask.find({ _id: trusted({ $in: mine.map((a) => a.task) }) }, { title: 1 }).lean();
      const title = (id: unknown) => tasks.find((t) => String(t._id) === String(id))?.title ?? '志愿任务';
      let choices = mine.slice(0, 8).map((a) => ({ label: `${title(a.task)}（${rangeLabel(a.start, a.end)}）`, value: String(a._id) }));
      const named = choices.filter((c) => String(slots.said ?? '').includes(c.label.slice(0, c.label.indexOf('（'))));
      if (named.length === 1) choices = named;
      if (choices.length > 1) return { kind: 'ask', slot: 'assignmentId', text: '要退出哪一个？', choices };
      slots.assignmentId = choices[0]!.value;
    }
    const a = await findAssignment(slots.assignmentId as string);
    const late = turn.now.getTime() > a.start.getTime() - rules(turn).releaseCutoffHours * 3_600_000;
    return {
      kind: 'confirm',
      text: `确定退出 ${rangeLabel(a.start, a.end)} 的志愿任务「${(await VolunteerTask.findById(a.task, { title: 1 }).lean())?.title ?? ''}」吗？${late ? `\n注意：离开始已不到 ${rules(turn).releaseCutoffHours} 小时，退出会记一次缺勤。` : ''}\n回复“确认”退出，“返回”重新选择。`,
    };
  },
  async execute(turn, slots) {
    const a = await findAssignment(slots.assignmentId as string);
    const { late, suspended } = await releaseAssignment(a, turn.user, rules(turn), turn.now);
    if (suspended) return '已退出。本年度缺勤已达上限，志愿者资格暂停，如有特殊情况请联系社区工作人员。';
    return late ? '已退出，这次记为缺勤。以后不能去请尽早告诉我们，谢谢！' : '已退出，名额会留给其他志愿者。谢谢您告诉我们！';
  },
};

/** 注册志愿者: after 确认, a registration staff will verify. */
export const registerFlow: Flow = {
  intent: 'volunteer.register',
  absorb: () => [],
  async next(turn) {
    if (turn.person.volunteer?.verified) return { kind: 'done', text: '您已经是志愿者了。发“志愿活动”看看还缺人的任务。' };
    return { kind: 'confirm', text: '注册成为社区志愿者？工作人员审核后就可以报名志愿任务。回复“确认”注册。' };
  },
  async execute(turn) {
    await registerVolunteer(turn.person, {}, turn.now);
    return '已提交注册！工作人员审核后会通知您。技能和方便的服务时间可以在小程序“志愿者资料”里填写。';
  },
};

/** 我到了: the task whose check-in is open now, then its on-site code. */
export const checkInFlow: Flow = {
  intent: 'volunteer.checkin',
  absorb: (slots, _u, turn) => {
    const code = /(?<!\d)\d{6}(?!\d)/.exec(turn.text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)))?.[0];
    if (!code) return [];
    slots.code = code;
    return ['code'];
  },
  async next(turn, slots) {
    if (!slots.assignmentId) {
      const opensMs = rules(turn).checkInOpensMinutes * 60_000;
      const open = (await assignmentsOf(turn, ['claimed'])).find((a) => a.start.getTime() - opensMs <= turn.now.getTime() && turn.now < a.end);
      if (!open) return { kind: 'done', text: `现在没有可以签到的志愿任务（任务开始前 ${rules(turn).checkInOpensMinutes} 分钟起可签到）。` };
      slots.assignmentId = String(open._id);
    }
    if (!slots.code) return { kind: 'ask', slot: 'code', text: '请发现场的 6 位签到码（问现场工作人员）。' };
    const a = await findAssignment(slots.assignmentId as string);
    const task = await findVolunteerTask(String(a.task));
    try {
      await checkInAssignment(a, task, slots.code as string, turn.user, rules(turn), turn.now);
    } catch (err) {
      // A wrong code keeps the conversation: the right one, sent next, checks in (issue 20).
      if (!(err instanceof AppError) || err.code !== 'site_code_invalid') throw err;
      delete slots.code;
      return { kind: 'ask', slot: 'code', text: `${err.message}。核对后直接把 6 位签到码发给我。` };
    }
    return { kind: 'done', text: `签到成功！「${task.title}」辛苦了。结束后发“签退”。` };
  },
};

/** 签退: checks out of the task checked in to, and says whether the hours count. */
export const checkOutFlow: Flow = {
  intent: 'volunteer.checkout',
  absorb: () => [],
  async next(turn) {
    const [current] = await assignmentsOf(turn, ['checked_in']);
    if (!current) return { kind: 'done', text: '您现在没有已签到的志愿任务。' };
    const done = await checkOutAssignment(await findAssignment(String(current._id)), turn.person._id, rules(turn), turn.now);
    const minutes = done.attendedMinutes ?? 0;
    return {
      kind: 'done',
      text: done.hoursEligible
        ? `签退成功，本次服务 ${hoursLabel(minutes)}，工作人员确认后计入时长和积分。谢谢您！`
        : `签退成功，本次在岗 ${hoursLabel(minutes)}，不足计划时间的 ${rules(turn).minAttendancePercent}%，这次不计时长。`,
    };
  },
};

/** 我几星了: approved hours, points, stars and the time bank. */
export const hoursFlow: Flow = {
  intent: 'volunteer.hours',
  absorb: () => [],
  async next(turn) {
    // The figures kept on the volunteer's record stamp, as GET /volunteers/me gives them.
    const totals = await volunteerFigures(turn.person, rules(turn));
    const balance = await timeBankBalance(turn.person._id);
    const next = totals.hoursToNextStar === null ? '已是最高星级。' : `再服务 ${totals.hoursToNextStar} 小时升到 ${totals.stars + 1} 星。`;
    return {
      kind: 'done',
      text: `您已服务 ${totals.hours} 小时（${totals.tasksServed} 次），积分 ${totals.points}，${totals.stars ? `${'★'.repeat(totals.stars)} ${totals.stars} 星志愿者` : '还没有星级'}。${next}\n时间银行余额：${hoursLabel(balance)}。`,
    };
  },
};

export const volunteerFlows: Flow[] = [claimFlow('volunteer.tasks'), claimFlow('volunteer.claim'), unclaimTask, registerFlow, checkInFlow, checkOutFlow, hoursFlow];
