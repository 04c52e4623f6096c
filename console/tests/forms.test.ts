import { describe, expect, it } from 'vitest';
import { blackoutProblem, reasonProblem, residentSearchProblem } from '../src/lib/forms';

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
});
