import { describe, expect, it } from 'vitest';
import { blackoutProblem, hoursProblem, reasonProblem, residentSearchProblem, suspendProblem, volunteerReasonProblem } from '../src/lib/forms';

describe('form checks before a request', () => {
  it('asks for a reason that the resident will read, at most 200 characters', () => {
    expect(reasonProblem('  ')).toBe('请填写原因（会告知居民）');
    expect(reasonProblem('x'.repeat(201))).toBe('原因最多 200 个字');
    expect(reasonProblem('消防检查')).toBeNull();
  });

  it('needs a name or at least 4 digits to search residents', () => {
    expect(residentSearchProblem('')).toBe('请输入居民姓名或手机号');
    expect(residentSearchProblem('138')).toBe('手机号至少输入 4 位');
    expect(residentSearchProblem('0005')).toBeNull();
    expect(residentSearchProblem('王')).toBeNull();
  });

  it('checks a blackout has rooms, a time range in order and a reason', () => {
    const start = new Date('2030-03-04T06:00:00Z');
    const end = new Date('2030-03-04T08:00:00Z');
    expect(blackoutProblem({ roomIds: [], start, end, reason: '检修' })).toBe('请至少选择一个活动室');
    expect(blackoutProblem({ roomIds: ['r1'], start: null, end, reason: '检修' })).toBe('请选择开始和结束时间');
    expect(blackoutProblem({ roomIds: ['r1'], start: end, end: start, reason: '检修' })).toBe('结束时间应晚于开始时间');
    expect(blackoutProblem({ roomIds: ['r1'], start, end, reason: ' ' })).toBe('请填写停用原因');
    expect(blackoutProblem({ roomIds: ['r1'], start, end, reason: '检修' })).toBeNull();
  });

  it('checks time-bank hours: above 0 to redeem, not 0 to adjust, two decimals at most', () => {
    expect(hoursProblem(null)).toBe('请填写时长（小时）');
    expect(hoursProblem(0)).toBe('兑换时长应大于 0');
    expect(hoursProblem(-1)).toBe('兑换时长应大于 0');
    expect(hoursProblem(1.255)).toBe('时长最多保留两位小数');
    expect(hoursProblem(1001)).toBe('兑换时长最多 1000 小时');
    expect(hoursProblem(2.5)).toBeNull();
    expect(hoursProblem(0.29)).toBeNull(); // 28.999… in binary: still two decimals
    expect(hoursProblem(0, { allowNegative: true })).toBe('调整时长不能为 0');
    expect(hoursProblem(-1500, { allowNegative: true })).toBe('调整时长在 -1000 到 1000 小时之间');
    expect(hoursProblem(-1.5, { allowNegative: true })).toBeNull();
  });

  it('asks for a reason the volunteer will read, and a suspension end in the future', () => {
    const now = new Date('2030-03-04T06:00:00Z');
    expect(volunteerReasonProblem(' ')).toBe('请填写原因（会告知志愿者）');
    expect(volunteerReasonProblem('x'.repeat(201))).toBe('原因最多 200 个字');
    expect(volunteerReasonProblem('', '请填写调整原因')).toBe('请填写调整原因');
    expect(suspendProblem({ reason: '多次未到岗', until: new Date('2030-03-04T05:00:00Z') }, now)).toContain('应晚于现在');
    expect(suspendProblem({ reason: '', until: null }, now)).toBe('请填写原因（会告知志愿者）');
    expect(suspendProblem({ reason: '多次未到岗', until: null }, now)).toBeNull();
    expect(suspendProblem({ reason: '多次未到岗', until: new Date('2030-04-01T00:00:00Z') }, now)).toBeNull();
  });
});
