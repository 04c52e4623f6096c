import type { Redis } from 'ioredis';
import type { WechatyInterface } from 'wechaty/impls';
import { rangeLabel } from '../../src/booking/time.js';
import { callerForContact } from '../handlers/binding.js';
import { claimVolunteerTask } from '../../src/commands/volunteerAssignments.js';
import { findVolunteerTask } from '../../src/commands/volunteerTasks.js';
import type { TaskBoard } from '../../src/commands/volunteerAnnouncements.js';
import { AppError } from '../../src/errors.js';
import { replies } from '../replies.js';

/** The numbers of the group's last post, for three days: replying a number claims its task. */
const boardKey = (roomId: string) => `bot-group-board:${roomId}`;
const BOARD_TTL_SECONDS = 3 * 86_400;


/** A numbered post of tasks in the group named `topic`, remembered so a reply of a number claims. */
export function volunteerGroupBoard(wechaty: WechatyInterface, redis: Redis, topic: string): TaskBoard {
  return {
    async postTasks(sections) {
      const tasks = sections.flatMap((section) => section.tasks);
      if (!tasks.length || !wechaty.isLoggedIn) return false;
      const room = await wechaty.Room.find({ topic });
      if (!room) return false;
      let n = 0;
      const text = sections.map((section) => [section.heading, ...section.tasks.map((t) => {
        n += 1;
        return `${n}. ${t.title}（${rangeLabel(t.start, t.end)}，${t.place}，还差${Math.max(t.peopleNeeded - (t.claimedCount ?? 0), 0)}人）`;
      })].join('\n')).join('\n');
      await redis.multi()
        .del(boardKey(room.id))
        .hset(boardKey(room.id), Object.fromEntries(tasks.map((t, i) => [String(i + 1), String(t._id)])))
        .expire(boardKey(room.id), BOARD_TTL_SECONDS)
        .exec();
      await room.say(`${text}\n想参加的志愿者直接回复数字报名。`);
      return true;
    },
  };
}

/** Whether a group message is a reply to the board: a number alone (１, 2), with or without @. */
export function boardNumberIn(text: string): number | undefined {
  const n = /^\s*([0-9０-９]{1,2})\s*$/.exec(text)?.[1];
  return n ? Number(n.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))) : undefined;
}

/**
 * A member replied a number in the volunteers' group: the task under that number of the last
 * post is claimed for the member's bound volunteer, with the same command (and rules) as
 * everywhere else. Undefined when there is no such number on the board.
 */
export async function claimFromBoard(redis: Redis, roomId: string, contactId: string, n: number): Promise<string | undefined> {
  const taskId = await redis.hget(boardKey(roomId), String(n));
  if (!taskId) return undefined;
  const user = await callerForContact(contactId);
  if (!user) return replies.howToBind;
  try {
    const task = await findVolunteerTask(taskId);
    await claimVolunteerTask(task, user.person, user);
    return `报名成功！「${task.title}」${rangeLabel(task.start, task.end)}，${task.place}。`;
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
}
