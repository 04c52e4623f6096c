import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { SubscriptionGrant, SubscriptionGrantUse, type SubscriptionGrantDoc } from '../../models/subscriptionGrant.js';
import { isDuplicateKey } from '../storage/mongo.js';

/**
 * Unused subscription grants, as Redis lists `subgrant:<person>:<templateId>` of
 * `{"g": grantId, "o": openid}`, so sending needs no read of the grants. LPOP hands each entry
 * to one dispatcher; inserting the SubscriptionGrantUse (unique per grant) is what spends the
 * grant, so even a list rebuilt with a stale entry cannot spend one grant twice. The lists are
 * rebuilt from MongoDB when `subgrant:built` is missing (Redis lost its data) and by the
 * reconcile job.
 */
const listKey = (person: string, templateId: string) => `subgrant:${person}:${templateId}`;
export const GRANTS_BUILT_KEY = 'subgrant:built';

interface GrantEntry {
  g: string;
  o: string;
}

/** Records grants the person just accepted and makes them available to the dispatchers. */
export async function addGrants(redis: Redis, grants: SubscriptionGrantDoc[]): Promise<void> {
  const tx = redis.multi();
  for (const g of grants) tx.rpush(listKey(String(g.person), g.templateId), JSON.stringify({ g: String(g._id), o: g.openid }));
  await tx.exec();
}

/** Rebuilds every list from the grants and their uses (two reads), then marks them built. */
export async function rebuildGrantIndex(redis: Redis): Promise<number> {
  const [grants, uses] = await Promise.all([
    SubscriptionGrant.find({}, { person: 1, templateId: 1, openid: 1, grantedAt: 1 }).sort({ grantedAt: 1 }).lean(),
    SubscriptionGrantUse.find({}, { grant: 1 }).lean(),
  ]);
  const used = new Set(uses.map((u) => String(u.grant)));
  const lists = new Map<string, string[]>();
  for (const g of grants) {
    const key = listKey(String(g.person), g.templateId);
    if (!lists.has(key)) lists.set(key, []);
    if (!used.has(String(g._id))) lists.get(key)!.push(JSON.stringify({ g: String(g._id), o: g.openid }));
  }
  const tx = redis.multi();
  let unused = 0;
  for (const [key, entries] of lists) {
    tx.del(key);
    if (entries.length > 0) tx.rpush(key, ...entries);
    unused += entries.length;
  }
  tx.set(GRANTS_BUILT_KEY, String(Date.now()));
  await tx.exec();
  return unused;
}

/** A grant spent on a notification: who to send to, and how to give it back. */
export interface TakenGrant {
  grant: string;
  openid: string;
  entry: string;
}

/**
 * Spends one of the person's grants for `templateId` on `notification`, or returns null when
 * none remains. Concurrent calls never get the same grant.
 */
export async function takeGrant(
  redis: Redis,
  person: string,
  templateId: string,
  notification: Types.ObjectId | string,
  now: Date,
): Promise<TakenGrant | null> {
  if (!(await redis.exists(GRANTS_BUILT_KEY))) await rebuildGrantIndex(redis);
  for (;;) {
    const entry = await redis.lpop(listKey(person, templateId));
    if (!entry) return null;
    const { g, o } = JSON.parse(entry) as GrantEntry;
    try {
      await SubscriptionGrantUse.collection.insertOne({ grant: new Types.ObjectId(g), notification: new Types.ObjectId(String(notification)), at: now });
      return { grant: g, openid: o, entry };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // already spent (a stale entry): try the next one
    }
  }
}

/** Gives a grant back when the message did not go out and WeChat did not spend it. */
export async function returnGrant(redis: Redis, person: string, templateId: string, taken: TakenGrant): Promise<void> {
  await SubscriptionGrantUse.deleteOne({ grant: taken.grant });
  await redis.lpush(listKey(person, templateId), taken.entry);
}

/** How many grants for `templateId` the person still holds. */
export async function grantsLeft(redis: Redis, person: string, templateId: string): Promise<number> {
  if (!(await redis.exists(GRANTS_BUILT_KEY))) await rebuildGrantIndex(redis);
  return redis.llen(listKey(person, templateId));
}
