import type { Types } from 'mongoose';
import { VolunteerTask, type VolunteerTaskType } from '../../models/volunteerTask.js';
import { bumpGeneration, cachedRead } from '../cache/readCache.js';

/**
 * The read cache's generation of the tasks' title, place and type: replaced by
 * updateVolunteerTask (the only write that changes them), not by the claims that change a
 * task's count, so an assignment list's task names stay cached while volunteers claim.
 */
export const TASK_DETAILS = 'VolunteerTaskDetails';

export type TaskSummary = { _id: Types.ObjectId; title: string; place: string; type: VolunteerTaskType };

/**
 * The title, place and type of the tasks of a page of assignments, one cached `_id` read per
 * distinct task: a volunteer's page of 50 assignments cost 50 reads of FerretDB on every view.
 */
export async function taskSummaries(ids: Types.ObjectId[]): Promise<Map<string, TaskSummary>> {
  const distinct = [...new Set(ids.map(String))];
  const tasks = await Promise.all(distinct.map((id) =>
    cachedRead(`volunteer-task:${id}`, [TASK_DETAILS], () => VolunteerTask.findById(id).select('title place type').lean<TaskSummary>())));
  return new Map(tasks.filter((t) => t !== null).map((t) => [String(t._id), t]));
}

/** After a task's title, place or type changed. */
export const taskDetailsChanged = () => bumpGeneration(TASK_DETAILS);
