import type { AuthUser } from '../../src/auth/user.js';
import { AppError } from '../../src/errors.js';
import { FLOWS } from '../flows/index.js';
import { askForHuman, rememberMessage } from '../flows/human.js';
import { answerAcknowledgement, answerUrgent, urgentIn } from '../handlers/urgent.js';
import { extraIntentOf } from '../flows/staff.js';
import { replies } from '../replies.js';
import { numbered, type DialogueDeps, type Flow, type Step, type Turn } from './flow.js';
import { clearDialogue, loadDialogue, saveDialogue, type DialogueState } from './session.js';
import { readSlots, understand, type Understanding } from '../nlu/index.js';
import { choiceByWords } from '../nlu/choices.js';

/** Words that steer the conversation itself, whatever step it is at. */
const CANCEL = /^(取消|算了|不要了|不订了|不用了|退出|结束|不办了)[。！!]*$/;
const BACK = /^(返回|上一步|回到上一步)[。！!]*$/;
const CHANGE = /^(改|修改|我要改|改一下|不对)[。！!]*$/;

/**
 * A reply that picks an option: a number (or 第二个 / 选3, as the language understanding reads
 * it), or the option's words (通过, 驳回, 上午的那个, 没发烧: bots/nlu/choices.ts).
 */
function choiceIn(u: Understanding, step: Step, text: string): number | undefined {
  if (step.kind !== 'ask' || !step.choices?.length) return undefined;
  if (u.intent === 'choice' && u.choice !== undefined) return u.choice;
  return choiceByWords(text, step.choices.map((c) => c.label));
}

/** The text for a step; numbered choices end with the reminder that a number is enough. */
export function render(step: Step): string {
  if (step.kind === 'ask' && step.choices?.length) return `${step.text}\n${numbered(step.choices)}\n（回复数字即可）`;
  return step.text;
}

/**
 * One bound person's message, answered. The dialogue lives in Redis (30 minutes), asks only
 * for what is missing, offers numbered choices, shows a summary and books on 确认; 改 / 取消 /
 * 返回 work at any step, and anything not understood gets the menu, never an error.
 */
export async function converse(
  deps: DialogueDeps,
  user: AuthUser,
  contactId: string,
  text: string,
  now = new Date(),
): Promise<string> {
  const turn: Turn = { deps, person: user.person, user, now, text };
  // Distress first (the bot's message handler answers it before this; a caller that talks
  // to the dialogue directly is covered too), then a recipient's 收到 taking an urgent alert.
  const urgent = urgentIn(text);
  if (urgent) return answerUrgent(deps, user, text, urgent, now);
  const acknowledged = await answerAcknowledgement(user, text, now);
  if (acknowledged) return acknowledged;
  const said = understand(text, now);
  // Staff's work (待审核, 今天的安排) and ratings are outside the language contract: matched first.
  const u: Understanding = { ...said, intent: (extraIntentOf(user, text) ?? said.intent) as Understanding['intent'] };
  await rememberMessage(deps.redis, contactId, text, deps.held);
  const state = await loadDialogue(deps.redis, contactId, deps.held);
  const clean = text.trim();

  if (u.intent === 'human') {
    await clearDialogue(deps.redis, contactId, deps.held);
    return askForHuman(turn, contactId);
  }

  if (state) {
    const flow = FLOWS[state.flow];
    // 改 / 返回 first: the language understanding reads both as a "no".
    if (flow && CHANGE.test(clean) && flow.changeable?.length) {
      state.step = {
        kind: 'ask', slot: '__change', text: '要改哪一项？',
        choices: flow.changeable.map((c) => ({ label: c.label, value: c.slot })),
      };
      await saveDialogue(deps.redis, contactId, state, deps.held);
      return render(state.step);
    }
    if (flow && BACK.test(clean)) {
      const last = state.filled.pop();
      if (last) delete state.slots[last];
      return proceed(turn, contactId, flow, state);
    }
    if (!flow || CANCEL.test(clean) || (state.step.kind === 'confirm' && u.intent === 'deny')) {
      await clearDialogue(deps.redis, contactId, deps.held);
      return replies.cancelled;
    }
    // 确认 on a list of alternatives (after a refusal) takes the first, the nearest.
    const choice = state.step.kind === 'ask' && state.step.alternatives && u.intent === 'confirm' ? 1 : choiceIn(u, state.step, clean);
    if (state.step.kind === 'ask' && choice !== undefined) {
      const picked = state.step.choices![choice - 1];
      if (!picked) return `请回复 1 到 ${state.step.choices!.length} 之间的数字。\n${render(state.step)}`;
      if (state.step.slot === '__change') {
        const item = flow.changeable!.find((c) => c.slot === picked.value)!;
        for (const slot of [item.slot, ...(item.clears ?? [])]) delete state.slots[slot];
      } else {
        state.slots[state.step.slot] = picked.value;
        state.filled.push(state.step.slot);
      }
      return proceed(turn, contactId, flow, state);
    }
    if (state.step.kind === 'confirm' && u.intent === 'confirm') {
      await clearDialogue(deps.redis, contactId, deps.held);
      if (!flow.execute) return replies.menu;
      try {
        return afterDone(turn, contactId, state, await flow.execute(turn, state.slots));
      } catch (err) {
        return keepAfterRefusal(turn, contactId, flow, state, err);
      }
    }
    const switchTo = FLOWS[u.intent];
    // A topic change: the new conversation runs, and the one put aside resumes after it.
    if (switchTo && switchTo.intent !== flow.intent) return start(turn, contactId, switchTo, u, state);
    // A correction or an answer: whatever the message adds to what the flow knows (8个人 and
    // 到5点 are answers though, on their own, they are no request).
    const set = flow.absorb(state.slots, { ...readSlots(text, now), ...u }, turn);
    if (state.step.kind === 'ask' && !set.length && state.step.slot !== '__change') {
      if (!answerAsText(state, clean)) return `${replies.notUnderstood}\n${render(state.step)}`;
    }
    if (!set.length && state.step.kind === 'confirm') return `${replies.confirmHint}\n${render(state.step)}`;
    for (const s of set) if (!state.filled.includes(s)) state.filled.push(s);
    return proceed(turn, contactId, flow, state);
  }

  const flow = FLOWS[u.intent];
  if (flow) return start(turn, contactId, flow, u);
  // A number (or 第一个) with no conversation going picks from the numbered help menu.
  const item = u.intent === 'choice' && u.choice !== undefined ? MENU_ITEMS[u.choice - 1] : undefined;
  if (item === 'human') return askForHuman(turn, contactId);
  if (item && FLOWS[item]) return start(turn, contactId, FLOWS[item]!, { intent: item as Understanding['intent'] });
  return replies.menu;
}

/** The intents behind the numbered items of replies.menu, in its order. */
const MENU_ITEMS = ['meal.book', 'room.book', 'childcare.book', 'volunteer.tasks', 'booking.list', 'meal.price', 'human'];

/** Slots asked for as `text:<name>` (a purpose, a note) take the message as it is. */
function answerAsText(state: DialogueState, text: string): boolean {
  if (state.step.kind !== 'ask' || !state.step.slot.startsWith('text:') || !text || text.length > 60) return false;
  const slot = state.step.slot.slice('text:'.length);
  state.slots[slot] = text;
  state.filled.push(slot);
  return true;
}

async function start(turn: Turn, contactId: string, flow: Flow, u: Understanding, paused?: DialogueState): Promise<string> {
  const state: DialogueState = { flow: flow.intent, slots: {}, filled: [], step: { kind: 'done', text: '' } };
  // Only one conversation is put aside (the latest), so the state stays small.
  if (paused) state.paused = { ...paused, paused: undefined };
  state.filled.push(...flow.absorb(state.slots, u, turn));
  return proceed(turn, contactId, flow, state);
}

/** Asks the flow what comes next, keeps the state (or clears it when done), answers. */
async function proceed(turn: Turn, contactId: string, flow: Flow, state: DialogueState): Promise<string> {
  const { redis } = turn.deps;
  let step: Step;
  try {
    step = await flow.next(turn, state.slots);
  } catch (err) {
    return keepAfterRefusal(turn, contactId, flow, state, err);
  }
  if (step.kind === 'done') {
    await clearDialogue(redis, contactId, turn.deps.held);
    return afterDone(turn, contactId, state, step.text);
  }
  state.step = step;
  await saveDialogue(redis, contactId, state, turn.deps.held);
  return render(step);
}

/**
 * A conversation ended: when another was put aside for it (a question in the middle of a
 * booking), that one resumes where it was, and the answer says so.
 */
async function afterDone(turn: Turn, contactId: string, state: DialogueState, text: string): Promise<string> {
  const paused = state.paused;
  if (!paused || paused.step.kind === 'done') return text;
  await saveDialogue(turn.deps.redis, contactId, paused, turn.deps.held);
  return `${text}\n\n接着刚才的：\n${render(paused.step)}`;
}

/**
 * A command's refusal keeps the conversation (issue 20): what it knew stays, and the person
 * is asked what to change (or may just say the correction, 改成自取 / 换到周五); 取消 ends it.
 * A flow with nothing to change ends with the refusal as the answer.
 */
async function keepAfterRefusal(turn: Turn, contactId: string, flow: Flow, state: DialogueState, err: unknown): Promise<string> {
  const message = refusal(err);
  if (!flow.changeable?.length) {
    await clearDialogue(turn.deps.redis, contactId, turn.deps.held);
    return afterDone(turn, contactId, state, message);
  }
  state.step = {
    kind: 'ask', slot: '__change', text: `${message}\n要改哪一项？（或回复“取消”）`,
    choices: flow.changeable.map((c) => ({ label: c.label, value: c.slot })),
  };
  await saveDialogue(turn.deps.redis, contactId, state, turn.deps.held);
  return render(state.step);
}

/** A command's refusal is the answer (its message is Chinese and says what to do). */
function refusal(err: unknown): string {
  if (err instanceof AppError) return err.message;
  throw err;
}

