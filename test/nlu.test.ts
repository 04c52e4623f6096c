import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalise, understand, type Understanding } from '../bots/nlu/index.js';
import { parseNow } from '../bots/nlu/days.js';
import { useCleanStorage } from './support/storage.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Our copy of the shared examples, for a checkout that has no `../shared` beside it (CI). */
const OWN_COPY = resolve(repoRoot, 'test', 'nlu', 'examples.tsv');

/**
 * `../shared/nlu/examples.tsv` beside the clone, or beside the main checkout of a git worktree;
 * undefined when neither exists.
 */
function sharedExamplesPath(): string | undefined {
  const roots = [repoRoot];
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repoRoot, encoding: 'utf8' });
    roots.push(dirname(common.trim()));
  } catch {
    // Not a git checkout: the repo root is the only candidate.
  }
  return roots.map((root) => resolve(root, '..', 'shared', 'nlu', 'examples.tsv')).find((path) => existsSync(path));
}

/** The shared examples where they are, else our copy (the copy is checked against them below). */
function sharedExamples(): string {
  return sharedExamplesPath() ?? OWN_COPY;
}

interface Row {
  message: string;
  expected: Understanding;
}

function readTsv(path: string): Row[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const tab = line.lastIndexOf('\t');
      return { message: line.slice(0, tab), expected: JSON.parse(line.slice(tab + 1)) as Understanding };
    });
}

const NOW = '2026-11-23T10:00:00+08:00'; // a Monday

function runNlu(input: string, args: string[] = ['--now', NOW], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync('npm', ['run', '-s', 'nlu', '--', ...args], { cwd: repoRoot, input, encoding: 'utf8', env });
}

/** Every row through the real command; the rows whose answer differs, with both answers. */
function mismatches(rows: Row[], env?: NodeJS.ProcessEnv) {
  const run = runNlu(rows.map((r) => r.message).join('\n') + '\n', ['--now', NOW], env);
  expect(run.status, run.stderr).to.equal(0);
  const lines = run.stdout.split('\n').filter((l) => l !== '');
  expect(lines).to.have.length(rows.length);
  return rows
    .map((row, i) => ({ message: row.message, expected: row.expected, got: JSON.parse(lines[i]!) as unknown }))
    .filter((r) => JSON.stringify(sortKeys(r.got)) !== JSON.stringify(sortKeys(r.expected)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value) || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}

/** A Monday, a Sunday, the last day of a year (a Thursday) and a Saturday, in Shanghai. */
const MONDAY = new Date('2026-11-23T10:00:00+08:00');
const SUNDAY = new Date('2026-11-29T09:00:00+08:00');
const NEW_YEARS_EVE = new Date('2026-12-31T23:30:00+08:00');
const SATURDAY = new Date('2026-11-28T08:00:00+08:00');

function datesOf(message: string, now: Date): string[] | undefined {
  return understand(message, now).dates;
}

describe('language understanding', () => {
  useCleanStorage();

  describe('npm run -s nlu', () => {
    it('answers every line of ../shared/nlu/examples.tsv as expected', function () {
      this.timeout(60_000);
      const rows = readTsv(sharedExamples());
      expect(rows.length).to.be.greaterThan(0);
      expect(mismatches(rows)).to.deep.equal([]);
    });

    it('keeps test/nlu/examples.tsv, used where ../shared is absent, equal to the shared examples', () => {
      const own = readFileSync(OWN_COPY, 'utf8');
      expect(own.split('\n').length).to.be.greaterThan(10);
      const shared = sharedExamplesPath();
      if (shared) expect(own).to.equal(readFileSync(shared, 'utf8'));
    });

    it('answers the held-out messages of test/nlu/held-out.tsv as expected', function () {
      this.timeout(60_000);
      const rows = readTsv(resolve(repoRoot, 'test/nlu/held-out.tsv'));
      expect(rows.length).to.be.at.least(150);
      expect(mismatches(rows)).to.deep.equal([]);
    });

    it('gives the same answers whatever the process time zone', function () {
      this.timeout(60_000);
      const rows = readTsv(resolve(repoRoot, 'test/nlu/held-out.tsv'));
      expect(mismatches(rows, { ...process.env, TZ: 'UTC' })).to.deep.equal([]);
      expect(mismatches(rows, { ...process.env, TZ: 'America/Los_Angeles' })).to.deep.equal([]);
    });

    it('writes exactly one JSON line per input line, blank lines included, and nothing else', function () {
      this.timeout(60_000);
      const run = runNlu('明天中午送饭\n\n2\r\n你好');
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.equal(
        '{"intent":"meal.book","dates":["2026-11-24"],"meal":"lunch","mode":"delivery"}\n{"intent":"unknown"}\n{"intent":"choice","choice":2}\n{"intent":"help"}\n',
      );
    });

    it('reads --now without an offset as Asia/Shanghai', function () {
      this.timeout(60_000);
      // 23:30 in Shanghai on the 23rd is still the 23rd there, whatever the TZ of the process.
      const run = runNlu('明天的午饭\n', ['--now', '2026-11-23T23:30'], { ...process.env, TZ: 'UTC' });
      expect(run.stdout).to.equal('{"intent":"meal.book","dates":["2026-11-24"],"meal":"lunch"}\n');
    });

    it('refuses a --now that is not a date-time, with exit code 64 and nothing on stdout', function () {
      this.timeout(60_000);
      const run = runNlu('明天\n', ['--now', 'tomorrow']);
      expect(run.status).to.equal(64);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.contain('--now');
    });
  });

  describe('parseNow', () => {
    const cases: Array<[string, string | undefined]> = [
      ['2026-11-23T10:00:00+08:00', '2026-11-23T02:00:00.000Z'],
      ['2026-11-23T10:00:00Z', '2026-11-23T10:00:00.000Z'],
      ['2026-11-23T10:00', '2026-11-23T02:00:00.000Z'],
      ['2026-11-23 10:00:30', '2026-11-23T02:00:30.000Z'],
      ['2026-11-23', '2026-11-22T16:00:00.000Z'],
      ['2026-11-23T10:00:00-0500', '2026-11-23T15:00:00.000Z'],
      ['tomorrow', undefined],
      ['2026-13-40', undefined],
    ];
    for (const [input, iso] of cases) {
      it(`${input} → ${iso ?? 'refused'}`, () => {
        expect(parseNow(input)?.toISOString()).to.equal(iso);
      });
    }
  });

  describe('normalise', () => {
    const cases: Array<[string, string]> = [
      ['明兒個中午給我送兩份飯', '明天中午给我送2份饭'],
      ['後兒個下午三點半', '后天下午3点半'],
      ['１２月５日　中午', '12月5日中午'],
      ['明天 中午 送 饭', '明天中午送饭'],
      ['ok thanks', 'ok thanks'],
      ['好的👍🏻😊', '好的'],
      ['2️⃣', '2'],
      ['[微笑]可以', '可以'],
      ['礼拜天和星期三', '周日和周三'],
      ['三点一刻到五点', '3点1刻到5点'],
      ['十来个人', '10来个人'],
      ['二三十人', '20-30人'],
      ['少放一点盐，软一点', '少放一点盐,软一点'],
      ['下午一点', '下午1点'],
      ['第二个', '第2个'],
      ['选三', '选3'],
      ['俩孩子', '2个孩子'],
      ['周一周二', '周一周二'],
      ['连续四周', '连续4周'],
      ['二〇二六年十二月三日', '2026年12月3日'],
      ['三点十五', '3点15'],
    ];
    for (const [input, output] of cases) {
      it(`${input} → ${output}`, () => {
        expect(normalise(input)).to.equal(output);
      });
    }
  });

  describe('intents of unseen phrasings', () => {
    const cases: Record<string, string[]> = {
      'meal.book': ['订饭', '订餐', '明天送饭', '要一份', '来两份', '助餐', '我想吃饭，明天中午', '后天晚上我去食堂吃', '给我送碗粥', '牙口不好，要软一点的', '我吃素，明天午饭来一份', '怎么订饭', '今天中午的饭还能订吗'],
      'meal.cancel': ['明天的午饭不要了', '把周五的饭退掉', '取消后天的晚饭', '明天不用送饭了', '替老伴把明天的饭退了'],
      'meal.list': ['我订的饭有哪些', '我这周订了几顿饭', '看看我订的午饭'],
      'meal.menu': ['明天吃什么', '今天中午有什么菜', '饭菜单', '下周的菜谱', '明天食堂做的什么菜', '明天有没有饺子'],
      'childcare.book': ['明天托管孩子', '下周二送孩子来托育', '周六帮我带娃，两个孩子', '后天上午托班'],
      'childcare.cancel': ['周四的托管不去了', '明天的托育取消', '孙子后天不来托管了', '后天不送孩子过去了'],
      'childcare.availability': ['这周六托育还有名额吗', '明天托管满了没有', '周日托班能约吗'],
      'room.book': ['借会议室', '明天下午用一下活动室', '周六借舞蹈室跳广场舞', '我想订个书画室'],
      'room.cancel': ['周五的会议室不用了', '取消明天借的活动室', '把后天的书画室退了'],
      'room.availability': ['有哪些会议室可以借', '明天会议室有空吗', '周末有没有空的活动室', '下周六有没有场地', '还有空房间吗', '有空吗'],
      'room.reschedule': ['把明天的会议室改到后天', '活动室能推迟一个小时吗', '会议室换到周五', '我想把预约改个时间'],
      'volunteer.tasks': ['有什么志愿活动', '最近有什么活', '需要志愿者吗', '这周有啥志愿者任务'],
      'volunteer.claim': ['我要接明天的送餐', '明天送餐的活我来干', '后天的送餐谁去？我去', '我去', '算我一个', '这个送餐任务我接了', '明天的陪诊我来'],
      'volunteer.unclaim': ['周五的送餐我去不了', '去不了', '我想退出明天的值班', '取消报名'],
      'volunteer.register': ['我要注册志愿者', '我想当义工', '怎么成为志愿者', '我要报名志愿者'],
      'volunteer.checkin': ['帮我签个到', '我是志愿者，我到了', '签到', '我到了', '到了', '已到达，签到', '签到 356812'],
      'volunteer.checkout': ['结束服务', '已完成', '签退', '做完了', '结束了', '服务结束，签退', '活干完了，我走了'],
      'volunteer.hours': ['我几星了', '我的积分', '时间银行还有多少', '我服务了多少小时', '我的星级是多少'],
      'booking.list': ['我的预约', '我约过的都给我看看', '我订了什么', '我下周有哪些预约', '查一下我的预约', '取消明天的'],
      help: ['你好', '您好', '在吗', '怎么用', '帮助', '菜单', '能帮我做什么', '早上好', '小助手在吗', '你好，我是新来的'],
      human: ['你们的电话是多少', '我的饭怎么还没送到', '人工', '转人工', '找人', '客服', '叫个人来', '给我打个电话', '我要找工作人员', '我要投诉'],
      confirm: ['👍', '[强]', '确认', '好的', '可以', '对', '是的', '行', '嗯', '嗯嗯', '没问题', 'OK', 'ok的', '好嘞', '就这样吧', '确认订购', '👍好的'],
      deny: ['❌', '重新开始', '不要了', '不用', '不用了', '算了', '算了算了', '不对', '取消', '不行', '先不订了', '不了，谢谢', '我再想想', '返回', '不去了', '退掉'],
      unknown: ['今天股票涨了吗', '谢谢', '哈哈哈', '天气怎么样', '{"a":1}', 'console.log("hi")', 'SELECT * FROM users', '<script>alert(1)</script>', 'http://example.com', '给我讲个笑话', '', '   '],
    };
    for (const [intent, messages] of Object.entries(cases)) {
      for (const message of messages) {
        it(`${JSON.stringify(message)} → ${intent}`, () => {
          expect(understand(message, MONDAY).intent).to.equal(intent);
        });
      }
    }
  });

  describe('choices', () => {
    const cases: Array<[string, number]> = [
      ['2', 2], ['２', 2], ['第二个', 2], ['选3', 3], ['选第三个', 3], ['2号', 2], ['二', 2], ['第一个吧', 1], ['我选2', 2], ['就2吧', 2], ['④', 4], ['2️⃣', 2], ['第4项', 4], ['要第三个', 3],
    ];
    for (const [message, choice] of cases) {
      it(`${message} → choice ${choice}`, () => {
        expect(understand(message, MONDAY)).to.deep.equal({ intent: 'choice', choice });
      });
    }
  });

  describe('dates', () => {
    const cases: Array<[string, Date, string[]]> = [
      // Said on a Monday.
      ['周三托管', MONDAY, ['2026-11-25']],
      ['周一托管', MONDAY, ['2026-11-23']],
      ['下周三托管', MONDAY, ['2026-12-02']],
      ['这周日托管', MONDAY, ['2026-11-29']],
      ['下周日托管', MONDAY, ['2026-12-06']],
      ['下下周二托管', MONDAY, ['2026-12-08']],
      ['周末托管', MONDAY, ['2026-11-28', '2026-11-29']],
      ['下周末借活动室', MONDAY, ['2026-12-05', '2026-12-06']],
      ['礼拜天中午的饭', MONDAY, ['2026-11-29']],
      ['星期日中午的饭', MONDAY, ['2026-11-29']],
      ['明儿个中午的饭', MONDAY, ['2026-11-24']],
      ['后儿个中午的饭', MONDAY, ['2026-11-25']],
      ['大后天中午的饭', MONDAY, ['2026-11-26']],
      ['三天后的午饭', MONDAY, ['2026-11-26']],
      ['下周一到周五的午饭', MONDAY, ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04']],
      ['下周一到五的午饭', MONDAY, ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04']],
      ['周五到下周一托管', MONDAY, ['2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']],
      ['每周二上午借活动室，连续四周', MONDAY, ['2026-11-24', '2026-12-01', '2026-12-08', '2026-12-15']],
      ['每周二和周四下午托管，连续两周', MONDAY, ['2026-11-24', '2026-11-26', '2026-12-01', '2026-12-03']],
      ['每周三借活动室，共3次', MONDAY, ['2026-11-25', '2026-12-02', '2026-12-09']],
      ['每周五借棋牌室，连续一个月', MONDAY, ['2026-11-27', '2026-12-04', '2026-12-11', '2026-12-18']],
      ['下周开始每周三借书画室，连续三周', MONDAY, ['2026-12-02', '2026-12-09', '2026-12-16']],
      ['周一三五中午送饭', MONDAY, ['2026-11-23', '2026-11-25', '2026-11-27']],
      ['从明天开始连续三天送饭', MONDAY, ['2026-11-24', '2026-11-25', '2026-11-26']],
      ['到周五为止每天中午送饭', MONDAY, ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27']],
      ['12月3号借会议室', MONDAY, ['2026-12-03']],
      ['12/3借会议室', MONDAY, ['2026-12-03']],
      ['十二月三日借会议室', MONDAY, ['2026-12-03']],
      ['3号借会议室', MONDAY, ['2026-12-03']],
      ['30号借会议室', MONDAY, ['2026-11-30']],
      ['23号借会议室', MONDAY, ['2026-11-23']],
      ['12月1号到5号托管', MONDAY, ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05']],
      ['下个月5号托管', MONDAY, ['2026-12-05']],
      ['月底借舞蹈室', MONDAY, ['2026-11-30']],
      ['1月5号借会议室', MONDAY, ['2027-01-05']],
      ['2026年1月5日借会议室', MONDAY, ['2026-01-05']],
      ['下周的活动室有空吗', MONDAY, ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06']],
      // Said on a Sunday: 周三 is the coming one, 下周三 too (next calendar week starts tomorrow).
      ['周三托管', SUNDAY, ['2026-12-02']],
      ['下周三托管', SUNDAY, ['2026-12-02']],
      ['周日托管', SUNDAY, ['2026-11-29']],
      ['下周日托管', SUNDAY, ['2026-12-06']],
      ['这周六借活动室', SUNDAY, ['2026-11-28']],
      ['周末托管', SUNDAY, ['2026-11-29']],
      ['明天的饭', SUNDAY, ['2026-11-30']],
      ['下周一到周五的午饭', SUNDAY, ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04']],
      // Said on a Saturday.
      ['周末托管', SATURDAY, ['2026-11-28', '2026-11-29']],
      ['周五托管', SATURDAY, ['2026-12-04']],
      // Month and year rollover, said late on New Year's Eve (a Thursday) in Shanghai.
      ['明天的饭', NEW_YEARS_EVE, ['2027-01-01']],
      ['周三托管', NEW_YEARS_EVE, ['2027-01-06']],
      ['下周一托管', NEW_YEARS_EVE, ['2027-01-04']],
      ['3号借会议室', NEW_YEARS_EVE, ['2027-01-03']],
      ['1月5号借会议室', NEW_YEARS_EVE, ['2027-01-05']],
      ['今天的饭', NEW_YEARS_EVE, ['2026-12-31']],
      ['明天到后天托管', NEW_YEARS_EVE, ['2027-01-01', '2027-01-02']],
      // Forms that must not change the answer.
      ['下週三託管', MONDAY, ['2026-12-02']],
      ['下 周 三 托 管', MONDAY, ['2026-12-02']],
      ['１２月３号借会议室', MONDAY, ['2026-12-03']],
      ['🌞下周三托管😊', MONDAY, ['2026-12-02']],
      ['下礼拜三托管', MONDAY, ['2026-12-02']],
      ['下星期三托管', MONDAY, ['2026-12-02']],
    ];
    for (const [message, now, dates] of cases) {
      it(`${message} (said ${now.toISOString()}) → ${dates.join(', ')}`, () => {
        expect(datesOf(message, now)).to.deep.equal(dates);
      });
    }

    it('reads days in Shanghai: 00:30 there is already the next day in UTC+8', () => {
      // 2026-11-23T16:30Z is 2026-11-24 00:30 in Shanghai.
      expect(datesOf('明天的饭', new Date('2026-11-23T16:30:00Z'))).to.deep.equal(['2026-11-25']);
      expect(datesOf('今天的饭', new Date('2026-11-23T15:59:00Z'))).to.deep.equal(['2026-11-23']);
    });

    it('keeps the days of a message that only says when (an answer to 哪天？)', () => {
      expect(understand('明天', MONDAY)).to.deep.equal({ intent: 'unknown', dates: ['2026-11-24'] });
      expect(understand('下周三下午3点到5点', MONDAY)).to.deep.equal({ intent: 'unknown', dates: ['2026-12-02'], start: '15:00', end: '17:00' });
      expect(understand('今天股票涨了吗', MONDAY)).to.deep.equal({ intent: 'unknown' });
    });

    it('leaves the days out of a reschedule, which names two', () => {
      expect(understand('把周三的会议室换到周四', MONDAY)).to.deep.equal({ intent: 'room.reschedule' });
    });
  });

  describe('times', () => {
    const cases: Array<[string, { start?: string; end?: string }]> = [
      ['明天下午三点借会议室', { start: '15:00' }],
      ['明天三点半借会议室', { start: '15:30' }],
      ['明天下午三点一刻借会议室', { start: '15:15' }],
      ['明天三点三刻借会议室', { start: '15:45' }],
      ['三点十五借会议室', { start: '15:15' }],
      ['三点到五点借会议室', { start: '15:00', end: '17:00' }],
      ['九点到十一点借会议室', { start: '09:00', end: '11:00' }],
      ['10点-12点借会议室', { start: '10:00', end: '12:00' }],
      ['10-12点借会议室', { start: '10:00', end: '12:00' }],
      ['14:00-16:00借会议室', { start: '14:00', end: '16:00' }],
      ['１４：００到１６：００借会议室', { start: '14:00', end: '16:00' }],
      ['上午10点到2点借会议室', { start: '10:00', end: '14:00' }],
      ['十一点到一点借会议室', { start: '11:00', end: '13:00' }],
      ['中午十二点到两点借会议室', { start: '12:00', end: '14:00' }],
      ['早上七点到九点托管', { start: '07:00', end: '09:00' }],
      ['晚上七点到九点借活动室', { start: '19:00', end: '21:00' }],
      ['上午九点半到十一点半借活动室', { start: '09:30', end: '11:30' }],
      ['下午两点借会议室，用两个小时', { start: '14:00', end: '16:00' }],
      ['下午两点借会议室，一个半小时', { start: '14:00', end: '15:30' }],
      ['明天下午借会议室', {}],
      ['下周六上午借活动室', {}],
    ];
    for (const [message, times] of cases) {
      it(`${message} → ${JSON.stringify(times)}`, () => {
        const u = understand(message, MONDAY);
        expect({ start: u.start, end: u.end }).to.deep.equal({ start: times.start, end: times.end });
      });
    }
  });

  describe('slots', () => {
    const cases: Array<[string, Understanding]> = [
      ['明天中午送两份饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', mode: 'delivery', quantity: 2 }],
      ['明天中午要俩', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', quantity: 2 }],
      ['明天午饭２份', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', quantity: 2 }],
      ['明天早饭要三份', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'breakfast', quantity: 3 }],
      ['明天晚饭我自己来拿', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'dinner', mode: 'pickup' }],
      ['明天中午去食堂吃', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', mode: 'dine_in' }],
      ['明天中午送饭，少盐少糖少油，要软一点', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', mode: 'delivery', dietary: ['low_fat', 'low_salt', 'low_sugar', 'soft'] }],
      ['我血糖高，明天午饭要清真的素菜', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', dietary: ['halal', 'low_sugar', 'vegetarian'] }],
      ['明天中午的饭，清淡点', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', dietary: ['low_fat', 'low_salt'] }],
      ['帮我妈订明天的午饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', forOther: true }],
      ['给我爸订一份晚饭', { intent: 'meal.book', meal: 'dinner', quantity: 1, forOther: true }],
      ['替老伴订明天的午饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', forOther: true }],
      ['帮我婆婆订明天的午饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', forOther: true }],
      ['给隔壁王奶奶订一份明天的午饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', quantity: 1, forOther: true }],
      ['帮我订明天的午饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch' }],
      ['给我送明天的午饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', mode: 'delivery' }],
      ['明天借会议室，10个人', { intent: 'room.book', dates: ['2026-11-24'], people: 10 }],
      ['明天借会议室，十来个人', { intent: 'room.book', dates: ['2026-11-24'], people: 10 }],
      ['明天借会议室，我们5个人', { intent: 'room.book', dates: ['2026-11-24'], people: 5 }],
      ['明天借会议室，二三十人', { intent: 'room.book', dates: ['2026-11-24'], people: 30 }],
      ['明天托管两个孩子', { intent: 'childcare.book', dates: ['2026-11-24'], people: 2 }],
      ['俩孩子后天托管', { intent: 'childcare.book', dates: ['2026-11-25'], people: 2 }],
      ['周五的送餐我去不了，帮我退出', { intent: 'volunteer.unclaim', dates: ['2026-11-27'] }],
      ['能给我送份饭吗', { intent: 'meal.book', mode: 'delivery', quantity: 1 }],
      ['自取', { intent: 'meal.book', mode: 'pickup' }],
      ['明天不用送了', { intent: 'meal.cancel', dates: ['2026-11-24'] }],
      ['幫我媽取消週五的午餐', { intent: 'meal.cancel', dates: ['2026-11-27'], meal: 'lunch', forOther: true }],
      ['因为她牙口不好，明天中午送软一点的饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', mode: 'delivery', dietary: ['soft'] }],
      ['我老伴有高血压，明天的晚饭少放点盐', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'dinner', dietary: ['low_salt'], forOther: true }],
      ['后天午饭来俩，一份素的', { intent: 'meal.book', dates: ['2026-11-25'], meal: 'lunch', quantity: 2, dietary: ['vegetarian'] }],
      ['明天午饭，我和老伴两个人', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', quantity: 2 }],
      ['明天晚上6点来拿饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'dinner', mode: 'pickup' }],
      ['明天中午12点送饭', { intent: 'meal.book', dates: ['2026-11-24'], meal: 'lunch', mode: 'delivery' }],
      ['给我儿子订明天的托管', { intent: 'childcare.book', dates: ['2026-11-24'] }],
      // A meal moves (book the new day first, then cancel the old): dates is the new day.
      ['把周三的饭改到周四', { intent: 'meal.reschedule', dates: ['2026-11-26'] }],
      // Hours 3点到5点 after a date are one day (chrono put 5点 < 15:00 on the next day).
      ['12月10号下午三点到五点借书画室', { intent: 'room.book', dates: ['2026-12-10'], start: '15:00', end: '17:00' }],
      ['把明天的饭改到后天', { intent: 'meal.reschedule', dates: ['2026-11-25'] }],
      ['明天的午饭改到后天吧', { intent: 'meal.reschedule', dates: ['2026-11-25'], meal: 'lunch' }],
      ['把明天的午饭改成晚饭', { intent: 'meal.reschedule', meal: 'dinner' }],
      ['明天的饭改天吧', { intent: 'meal.reschedule' }],
      ['周三的饭多少钱，我能补贴多少', { intent: 'meal.price', dates: ['2026-11-25'] }],
      ['多少钱', { intent: 'meal.price' }],
      ['有补贴吗', { intent: 'meal.price' }],
      ['明天送饭要送餐费吗', { intent: 'meal.price', dates: ['2026-11-24'], mode: 'delivery' }],
      ['明天托管改到后天', { intent: 'childcare.cancel', dates: ['2026-11-24'] }],
      ['宝宝明天下午托管三个小时，两点开始', { intent: 'childcare.book', dates: ['2026-11-24'], start: '14:00', end: '17:00' }],
      ['每周一下午托管，到月底', { intent: 'childcare.book', dates: ['2026-11-23', '2026-11-30'] }],
      ['每周一下午托管，到12月21号为止', { intent: 'childcare.book', dates: ['2026-11-23', '2026-11-30', '2026-12-07', '2026-12-14', '2026-12-21'] }],
    ];
    for (const [message, expected] of cases) {
      it(`${message} → ${JSON.stringify(expected)}`, () => {
        expect(understand(message, MONDAY)).to.deep.equal(expected);
      });
    }
  });
});
