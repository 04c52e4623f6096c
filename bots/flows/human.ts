import { Person } from '../../models/person.js';
import { notify } from '../../src/commands/notify.js';
import { dutyPhoneOf } from '../../src/commands/urgentHelp.js';
import type { Turn } from '../dialogue/flow.js';
import { recentMessages } from '../dialogue/session.js';

/** Keeps a contact's last few messages (30 minutes), for the staff member who takes over. */
export { rememberMessage } from '../dialogue/session.js';

/**
 * 人工: a request to the staff of the person's community, with the last messages, through the
 * notifications outbox (one per person per hour); the reply says who will answer and when.
 */
export async function askForHuman(turn: Turn, contactId: string): Promise<string> {
  const recent = await recentMessages(turn.deps.redis, contactId, turn.deps.held);
  const community = turn.person.community;
  const staff = community
    ? await Person.find({ roles: 'staff', 'staffScope.community': community, status: 'active' }, { _id: 1 }).limit(20).lean()
    : [];
  const hour = Math.floor(turn.now.getTime() / 3_600_000);
  const text = `居民${turn.person.name ?? ''}在微信里请求人工服务。最近的消息：\n${recent.map((m) => `· ${m}`).join('\n')}`;
  for (const s of staff) await notify(s._id, `human:${turn.person._id}:${hour}:${s._id}`, 'human_request', text, turn.now);
  const phone = await dutyPhoneOf(community, turn.deps.config.urgent);
  const call = phone ? `着急的话请直接打社区电话 ${phone}。` : '着急的话请直接打社区服务电话。';
  return staff.length
    ? `已通知社区工作人员，工作时间（9:00–17:00）一般 1 小时内会在微信里回复您；${call}`
    : `已记下您的请求。社区工作人员上班后会联系您；${call}`;
}
