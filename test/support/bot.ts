import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import type { types } from 'wechaty';
import type { MessageInterface } from 'wechaty/impls';
import type { mock } from 'wechaty-puppet-mock';
import { startBot, type RunningBot } from '../../bots/index.js';
import type { PersonDoc } from '../../models/index.js';
import { makeIdentity } from '../factories/index.js';
import { testConfig, testEnvironment } from './env.js';
import { createTestLogger } from './logs.js';

const REPLY_TIMEOUT_MS = 5_000;
const SILENCE_MS = 300;

/** Where the bot answers: a contact's one-to-one chat or a room. */
export type Conversation = mock.ContactMock | mock.RoomMock;

export interface TestBot {
  bot: RunningBot;
  mocker: mock.Mocker;
  botUser: mock.ContactMock;
  /** The text of the bot's next message in `where`, as Wechaty sees the bot's own messages. */
  nextReply(where: Conversation, timeoutMs?: number): Promise<string>;
  /** True when the bot says nothing in `where` for `ms`. */
  staysSilent(where: Conversation, ms?: number): Promise<boolean>;
  /** `contact` writes `text` to the bot one-to-one; resolves with the answer. */
  ask(contact: mock.ContactMock, text: string): Promise<string>;
  /** `contact` sends a message of a non-text `type` (a picture, a voice message). */
  sendNonText(contact: mock.ContactMock, type: types.Message): Promise<string>;
  /** A new WeChat contact already bound to `person` (as sending a binding code does). */
  contactOf(person: PersonDoc, name?: string): Promise<mock.ContactMock>;
  stop(): Promise<void>;
}

/**
 * The real bot (Wechaty with wechaty-puppet-mock) on the test database and Redis, and helpers
 * to talk to it as WeChat contacts do. `overrides` are environment variables for its config.
 */
export async function startTestBot(overrides: Record<string, string> = {}): Promise<TestBot> {
  const bot = await startBot({ config: testConfig(overrides), logger: createTestLogger(), mongo: mongoose.connection, redis: testEnvironment().redis });
  const mocker = bot.mocker!;
  const botUser = bot.botUser!;

  function nextReply(where: Conversation, timeoutMs = REPLY_TIMEOUT_MS): Promise<string> {
    const isRoom = where instanceof mocker.RoomMock;
    return new Promise((resolve, reject) => {
      const listener = (message: MessageInterface) => {
        if (!message.self()) return;
        const to = isRoom ? message.room()?.id : message.room() ? undefined : message.listener()?.id;
        if (to !== where.id) return;
        clearTimeout(timer);
        bot.wechaty.off('message', listener);
        resolve(message.text());
      };
      const timer = setTimeout(() => {
        bot.wechaty.off('message', listener);
        reject(new Error(`no reply from the bot within ${timeoutMs} ms`));
      }, timeoutMs);
      bot.wechaty.on('message', listener);
    });
  }

  return {
    bot,
    mocker,
    botUser,
    nextReply,
    staysSilent: (where, ms = SILENCE_MS) => nextReply(where, ms).then(() => false, () => true),
    ask(contact, text) {
      const reply = nextReply(contact);
      contact.say(text).to(botUser);
      return reply;
    },
    sendNonText(contact, type) {
      const reply = nextReply(contact);
      const message = mocker.MessageMock.create({ id: randomUUID(), talkerId: contact.id, listenerId: botUser.id, timestamp: Date.now(), type });
      mocker.puppet.emit('message', { messageId: message.id });
      return reply;
    },
    async contactOf(person, name) {
      const contact = mocker.createContact({ name: name ?? person.name ?? '居民' });
      await makeIdentity(person, { subject: contact.id });
      return contact;
    },
    stop: () => bot.stop(),
  };
}
