import { Types, trusted } from 'mongoose';
import { VolunteerTask, type VolunteerTaskDoc } from '../../models/volunteerTask.js';
import { type ClaimSet, withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';

/** Where tasks are posted for volunteers to claim by number: the bot's volunteers' group. */
export interface TaskBoard {
  /** One post of numbered tasks, in sections; false when it could not be posted. */
  postTasks(sections: Array<{ heading: string; tasks: VolunteerTaskDoc[] }>): Promise<boolean>;
}

type PostKind = 'new' | 'unfilled';
const postKey = (task: VolunteerTaskDoc, kind: PostKind) => `task-post:${task._id}:${kind}`;
const MAX_PER_POST = 9; // numbers 1–9: one key on a phone

/**
 * Claims the post of each task once (a unique claim per task and kind), so however often the job
 * runs and on however many instances, a task is announced once as new and escalated once as
 * unfilled. Returns the tasks this call may post.
 */
async function claimPosts(claims: ClaimSet, tasks: VolunteerTaskDoc[], kind: PostKind, max: number, holder: Types.ObjectId): Promise<VolunteerTaskDoc[]> {
  const mine: VolunteerTaskDoc[] = [];
  for (const task of tasks) {
    if (mine.length >= max) break;
    if ((await claims.claimAll(postKey(task, kind), [0], holder)).ok) mine.push(task);
  }
  return mine;
}

/**
 * Posts to the volunteers' group the open tasks not announced yet, and (24 hours before) the
 * tasks still short of people. Safe to re-run: each task is posted once per kind.
 */
export async function announceVolunteerTasks(board: TaskBoard, now: Date): Promise<{ announced: number; escalated: number }> {
  const open = await VolunteerTask.find({ status: 'open', start: trusted({ $gt: now }) }).sort({ start: 1 }).limit(200);
  const soon = open.filter((t) => t.start.getTime() <= now.getTime() + 24 * 3_600_000 && (t.claimedCount ?? 0) < t.peopleNeeded);
  // This run's own holder: a run that loses a claim must not touch the winner's.
  const holder = new Types.ObjectId();
  // The post claims mark tasks as posted: they stay only if the post went out. Not posted (the
  // bot is offline) or a failure half-way: all given back, so a later run tries again.
  return withClaims(async (claims) => {
    const unfilled = await claimPosts(claims, soon, 'unfilled', MAX_PER_POST, holder);
    const recent = open.filter((t) => !soon.includes(t) && t.createdAt && t.createdAt.getTime() > now.getTime() - 7 * 86_400_000);
    const fresh = await claimPosts(claims, recent, 'new', MAX_PER_POST - unfilled.length, holder);
    if (!unfilled.length && !fresh.length) return { announced: 0, escalated: 0 };
    failpoint('volunteers.announce.afterPostClaims');
    const posted = await board.postTasks([
      { heading: '【快开始了，还缺人】', tasks: unfilled },
      { heading: '【新的志愿任务】', tasks: fresh },
    ].filter((section) => section.tasks.length));
    if (!posted) {
      await claims.release();
      return { announced: 0, escalated: 0 };
    }
    claims.commit();
    return { announced: fresh.length, escalated: unfilled.length };
  });
}

