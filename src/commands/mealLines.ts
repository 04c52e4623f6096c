import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { MealMenu } from '../../models/mealMenu.js';
import { MealOrder } from '../../models/mealOrder.js';
import type { Logger } from '../logger.js';
import type { SheetOrder } from './mealSheets.js';

/**
 * The meal sheets' read model: one Redis hash per menu (`meal-lines:<menu>`), one field per
 * order holding exactly what the kitchen and delivery sheets read of it (SheetOrder: mode,
 * quantity, dietary needs, status, note, building, grid, and for 送餐上门 the contact name,
 * phone, unit and room), as compact JSON. Why: FerretDB v1 on SQLite evaluates `{menu}` by
 * decoding every order document in Go (1.1–1.7 s for 5,000 orders); HVALS takes milliseconds.
 * The same pattern as the staff room grid (src/booking/scheduleProjection.ts). MongoDB stays
 * the source of truth:
 *
 * - every command that writes an order writes its line after the MongoDB write, with a rank
 *   (2 × the order's version, + 1 once its contact is erased) that an atomic Lua script never
 *   lets go back: racing writes and rebuilds never leave an older state (or an erased phone
 *   number) behind;
 * - the hash vouches for itself with the field `@stamp`: the menu's `sheetStamp` (a new random
 *   value every order write sets in MongoDB, see touchMenu) up to which every write is in the
 *   hash. A writer moves `@stamp` from the stamp it replaced to its own, in the same script as
 *   its line, and only if `@stamp` still is the one it replaced; anything else (a write without
 *   Redis, a Redis error, two writers racing) leaves `@stamp` broken. A reader uses the hash
 *   only when `@stamp` equals the stamp of the menu it read; otherwise the menu is rebuilt from
 *   MongoDB (the slow path, once) with the same ranked writes;
 * - besides, a `built` mark (`meal-lines-built:<menu>`) lasts BUILT_TTL: when it has expired
 *   the hash is still served (its stamp vouches for it) while one caller rebuilds it in the
 *   background, as a safety net.
 *
 * Personal data: names and phone numbers of 送餐上门 elders are in the hash, as they were in
 * the cached sheets before it: the hash expires KEEP_SECONDS (2 days, the same as the cached
 * sheets) after the last write to the menu's orders, i.e. shortly after the meal, and
 * forgetMealContacts() overwrites the erased person's lines at once (see forgetMealLines).
 */
export interface MealLinesDeps {
  redis: Redis;
  log?: Logger;
}

export const MEAL_LINES_KEEP_SECONDS = 2 * 24 * 3600;
export const MEAL_LINES_BUILT_TTL_SECONDS = 10 * 60;
const STAMP_FIELD = '@stamp';
const BROKEN = 'broken';

export const mealLinesKey = (menu: Types.ObjectId | string) => `meal-lines:${menu}`;
export const mealLinesBuiltKey = (menu: Types.ObjectId | string) => `meal-lines-built:${menu}`;
const rebuildingKey = (menu: Types.ObjectId | string) => `meal-lines-rebuilding:${menu}`;

/** What a touch of the menu did: the stamp it replaced and the one it set. */
export interface MenuTouch {
  previous: string;
  stamp: string;
}

/**
 * KEYS[1] the hash. ARGV: field, line JSON, rank, previous stamp, new stamp, keep seconds, mode.
 * mode 'write': HSET the line unless a higher rank is stored; move @stamp previous → new (or
 * break it). mode 'rebuild': the ranked line only (@stamp is set once at the end).
 * mode 'erase': only if the hash exists; ranked line, and @stamp broken.
 */
const WRITE_LINE = `
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[7] == 'erase' and not exists then return 0 end
local current = redis.call('HGET', KEYS[1], ARGV[1])
local newer = false
if current then
  local r = tonumber(string.match(current, '^{"r":(%d+)'))
  if r and r > tonumber(ARGV[3]) then newer = true end
end
if not newer then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
if ARGV[7] == 'write' then
  if redis.call('HGET', KEYS[1], '${STAMP_FIELD}') == ARGV[4] then
    redis.call('HSET', KEYS[1], '${STAMP_FIELD}', ARGV[5])
  else
    redis.call('HSET', KEYS[1], '${STAMP_FIELD}', '${BROKEN}')
  end
elseif ARGV[7] == 'erase' then
  redis.call('HSET', KEYS[1], '${STAMP_FIELD}', '${BROKEN}')
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1`;

/** The fields of an order the sheets read (and the lines store). */
export const SHEET_FIELDS = 'bookedFor mode quantity dietaryNeeds status note building grid deliverTo version';

type OrderRow = SheetOrder & { version?: number | null };

/** An order's line: its rank first (the script reads it), then the SheetOrder fields. */
export function lineOf(o: OrderRow): { rank: number; json: string } {
  const contact = o.deliverTo && (o.deliverTo.name || o.deliverTo.phone || o.deliverTo.unit || o.deliverTo.room)
    ? { name: o.deliverTo.name ?? null, phone: o.deliverTo.phone ?? null, unit: o.deliverTo.unit ?? null, room: o.deliverTo.room ?? null }
    : null;
  // At one version, an order differs only by its erased contact, and erasure never goes back.
  const rank = 2 * (o.version ?? 0) + (contact?.name || contact?.phone ? 0 : 1);
  const line = {
    r: rank,
    _id: String(o._id),
    bookedFor: String(o.bookedFor),
    mode: o.mode,
    quantity: o.quantity,
    dietaryNeeds: [...o.dietaryNeeds],
    status: o.status,
    note: o.note ?? null,
    building: o.building ?? null,
    grid: o.grid ?? null,
    deliverTo: contact,
  };
  return { rank, json: JSON.stringify(line) };
}

const asRow = (order: OrderRow | { toObject(): unknown }): OrderRow =>
  ('toObject' in order && typeof order.toObject === 'function' ? order.toObject() : order) as OrderRow;

/**
 * Writes the line of an order just written, moving the menu's `@stamp` from `touch.previous`
 * to `touch.stamp`. `order` is the order as written (a document or a lean row), or its id to
 * read it by `_id` (FerretDB's cheapest read). Never throws: the order is written already,
 * and a line not written leaves `@stamp` behind, so the next reader rebuilds.
 */
export async function writeMealLine(
  deps: MealLinesDeps | undefined,
  menu: Types.ObjectId,
  order: OrderRow | { toObject(): unknown } | Types.ObjectId,
  touch: MenuTouch,
): Promise<void> {
  if (!deps) return;
  try {
    const row = order instanceof Types.ObjectId
      ? await MealOrder.findById(order).select(SHEET_FIELDS).lean<OrderRow>()
      : asRow(order);
    if (!row) return;
    const { rank, json } = lineOf(row);
    await deps.redis.eval(WRITE_LINE, 1, mealLinesKey(menu), String(row._id), json, String(rank),
      touch.previous, touch.stamp, String(MEAL_LINES_KEEP_SECONDS), 'write');
  } catch (err) {
    deps.log?.warn({ err: { message: (err as Error).message }, menu: String(menu) }, 'meal sheet line not written');
  }
}

/**
 * After a person's contacts were erased from their orders in MongoDB: overwrites their lines
 * in the menus' hashes that exist (a higher rank, so no racing rebuild puts the contact back),
 * breaks those hashes' stamps and deletes the cached finished sheets of those menus.
 */
export async function forgetMealLines(redis: Redis, personId: Types.ObjectId): Promise<void> {
  const rows = await MealOrder.find({ bookedFor: personId }).select(`menu ${SHEET_FIELDS}`).lean<Array<OrderRow & { menu: Types.ObjectId }>>();
  const pipeline = redis.pipeline();
  for (const row of rows) {
    const { rank, json } = lineOf(row);
    pipeline.eval(WRITE_LINE, 1, mealLinesKey(row.menu), String(row._id), json, String(rank), '', '', String(MEAL_LINES_KEEP_SECONDS), 'erase');
  }
  const menus = [...new Set(rows.map((r) => String(r.menu)))];
  if (menus.length > 0) pipeline.del(...menus.map((m) => `meal-sheets:${m}`));
  await pipeline.exec();
}

/**
 * Rebuilds a menu's lines from MongoDB (the slow path): the menu's stamp is read first, then
 * its orders, then every line is written with its rank and `@stamp` set to that stamp, and the
 * menu marked built. Returns the orders read.
 */
export async function rebuildMealLines(redis: Redis, menuId: Types.ObjectId): Promise<SheetOrder[]> {
  const menu = await MealMenu.findById(menuId).select('sheetStamp').lean();
  const stamp = menu?.sheetStamp ?? 'none';
  const rows = await MealOrder.find({ menu: menuId }).select(SHEET_FIELDS).lean<OrderRow[]>();
  const key = mealLinesKey(menuId);
  const pipeline = redis.pipeline();
  for (const row of rows) {
    const { rank, json } = lineOf(row);
    pipeline.eval(WRITE_LINE, 1, key, String(row._id), json, String(rank), '', '', String(MEAL_LINES_KEEP_SECONDS), 'rebuild');
  }
  pipeline.hset(key, STAMP_FIELD, stamp);
  pipeline.expire(key, MEAL_LINES_KEEP_SECONDS);
  pipeline.set(mealLinesBuiltKey(menuId), '1', 'EX', MEAL_LINES_BUILT_TTL_SECONDS);
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
  return rows;
}

// One rebuild per menu at a time in this process: concurrent readers wait for the same one.
const inFlight = new Map<string, Promise<SheetOrder[]>>();

function rebuildOnce(redis: Redis, menuId: Types.ObjectId): Promise<SheetOrder[]> {
  const id = String(menuId);
  let running = inFlight.get(id);
  if (!running) {
    running = rebuildMealLines(redis, menuId).finally(() => inFlight.delete(id));
    inFlight.set(id, running);
  }
  return running;
}

/** Settles when the rebuilds running in this process have ended (tests, shutdown). */
export async function mealLineRebuildsSettled(): Promise<void> {
  await Promise.allSettled([...inFlight.values()]);
}

export interface MealLines {
  orders: SheetOrder[];
  /** 'lines': read from the hash; 'rebuilt': read from MongoDB (and the hash rebuilt). */
  source: 'lines' | 'rebuilt';
}

/**
 * The orders of a menu for its sheets, from the read model: one MULTI (built mark, `@stamp`,
 * HVALS). Used when `@stamp` equals the stamp of `menu` (read by the caller before this call);
 * otherwise rebuilt from MongoDB first.
 */
export async function mealLines(deps: MealLinesDeps, menu: { _id: Types.ObjectId; sheetStamp?: string | null }): Promise<MealLines> {
  const { redis } = deps;
  const key = mealLinesKey(menu._id);
  const replies = await redis.multi().exists(mealLinesBuiltKey(menu._id)).hget(key, STAMP_FIELD).hvals(key).exec();
  if (!replies || replies.some(([err]) => err)) throw replies?.find(([err]) => err)?.[0] ?? new Error('meal lines: transaction aborted');
  const built = replies[0]![1] as number;
  const stamp = replies[1]![1] as string | null;
  const values = replies[2]![1] as string[];
  if (stamp === null || stamp !== (menu.sheetStamp ?? 'none')) {
    return { orders: await rebuildOnce(redis, menu._id), source: 'rebuilt' };
  }
  if (!built) {
    // The mark's expiry is a safety net, not news: serve the hash, refresh it in the background.
    const lock = await redis.set(rebuildingKey(menu._id), '1', 'EX', 60, 'NX');
    if (lock) {
      rebuildOnce(redis, menu._id)
        .catch((err: Error) => deps.log?.warn({ err: { message: err.message }, menu: String(menu._id) }, 'meal lines not rebuilt'))
        .finally(() => redis.del(rebuildingKey(menu._id)).catch(() => undefined));
    }
  }
  const orders: SheetOrder[] = [];
  for (const raw of values) {
    if (raw.charCodeAt(0) !== 123 /* { */) continue; // @stamp
    const { r: _r, ...order } = JSON.parse(raw) as SheetOrder & { r: number };
    orders.push(order);
  }
  return { orders, source: 'lines' };
}

/** For tests and operators: drops a menu's read model (the next read rebuilds it). */
export async function dropMealLines(redis: Redis, menuIds: Array<Types.ObjectId | string>): Promise<void> {
  if (menuIds.length === 0) return;
  await redis.del(...menuIds.flatMap((m) => [mealLinesKey(m), mealLinesBuiltKey(m)]));
}
