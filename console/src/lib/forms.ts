/**
 * Form rules checked in the browser before a request (the API checks again and its message
 * wins). Plain functions so Vitest tests them without mounting a component.
 */
type Validator = (rule: unknown, value: unknown, callback: (error?: Error) => void) => void;
export interface Rule { required?: boolean; message?: string; trigger?: string; validator?: Validator }

const required = (label: string): Rule => ({ required: true, message: `请填写${label}`, trigger: 'blur' });

export const signInRules: Record<string, Rule[]> = {
  username: [required('用户名')],
  password: [required('密码')],
};

/** A reason staff must give to reject, cancel or move: 1–200 characters after trimming. */
export function reasonProblem(reason: string): string | null {
  const r = reason.trim();
  if (!r) return '请填写原因（会告知居民）';
  if (r.length > 200) return '原因最多 200 个字';
  return null;
}

/** Mainland mobile number or part of a name, for the desk's resident search. */
export function residentSearchProblem(q: string): string | null {
  const s = q.trim();
  if (!s) return '请输入居民姓名或手机号';
  if (/^\d+$/.test(s) && s.length < 4) return '手机号至少输入 4 位';
  return null;
}

/** A blackout: a reason, at least one room, an end after its start. */
export function blackoutProblem(b: { roomIds: string[]; start: Date | null; end: Date | null; reason: string }): string | null {
  if (!b.roomIds.length) return '请至少选择一个活动室';
  if (!b.start || !b.end) return '请选择开始和结束时间';
  if (b.end.getTime() <= b.start.getTime()) return '结束时间应晚于开始时间';
  if (!b.reason.trim()) return '请填写停用原因';
  return null;
}

/**
 * Hours for the time bank: a number with at most two decimals, above 0 (redeem) or not 0 and
 * between -1000 and 1000 (adjust). Whether the balance covers it is the API's to say.
 */
export function hoursProblem(hours: number | null | undefined, opts: { allowNegative?: boolean } = {}): string | null {
  if (hours === null || hours === undefined || Number.isNaN(hours)) return '请填写时长（小时）';
  if (Math.abs(Math.round(hours * 100) - hours * 100) > 1e-6) return '时长最多保留两位小数';
  if (opts.allowNegative) {
    if (hours === 0) return '调整时长不能为 0';
    if (Math.abs(hours) > 1000) return '调整时长在 -1000 到 1000 小时之间';
  } else {
    if (hours <= 0) return '兑换时长应大于 0';
    if (hours > 1000) return '兑换时长最多 1000 小时';
  }
  return null;
}

/** A reason told to a volunteer (suspension, excused absence, cancelled task): 1–200 characters. */
export function volunteerReasonProblem(reason: string, missing = '请填写原因（会告知志愿者）'): string | null {
  const r = reason.trim();
  if (!r) return missing;
  if (r.length > 200) return '原因最多 200 个字';
  return null;
}

/** A suspension: a reason, and an end (if any) in the future. */
export function suspendProblem(s: { reason: string; until: Date | null }, now = new Date()): string | null {
  if (s.until && s.until.getTime() <= now.getTime()) return '暂停截止时间应晚于现在（不填则一直暂停到手动恢复）';
  return volunteerReasonProblem(s.reason);
}
