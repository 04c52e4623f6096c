import type { Types } from 'mongoose';
import { Person } from '../../models/person.js';
import { cachedRead } from '../cache/readCache.js';

/**
 * Names of the people a staff list names (a menu's orders, the audit trail), by id: one read
 * by `_id` per distinct person, each kept in the read cache until any person changes.
 *
 * `Person.find({_id: {$in: ids}})` is not pushed down by FerretDB v1: it decoded every person
 * ever registered (5,000 for a community's year) for a list of 40 names. An `_id` equality is
 * answered from the jsonb index, and a warm list reads Redis only.
 */
export async function personNames(ids: ReadonlyArray<Types.ObjectId | string | null | undefined>): Promise<Map<string, string | null>> {
  const distinct = [...new Set(ids.filter((id): id is Types.ObjectId | string => Boolean(id)).map(String))];
  const names = await Promise.all(distinct.map((id) =>
    cachedRead(`person-name:${id}`, ['Person'], async () => (await Person.findById(id).select('name').lean())?.name ?? null)));
  return new Map(distinct.map((id, i) => [id, names[i] ?? null]));
}
