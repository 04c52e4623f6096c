import type { Schema, UpdateQuery } from 'mongoose';
import { shanghaiDay } from './calendar.js';

/**
 * Keeps a record's `day` (the Shanghai day of `start`, 'YYYY-MM-DD') in step with `start`: on
 * validation (create, save, insertMany) and on query updates that set `start`. Why the field:
 * FerretDB v1 pushes equality down to the store but filters ranges in Go after decoding every
 * document, so the staff reports read a day's records by `{community, day}`, not by a `start`
 * range (src/commands/dailyFigures.ts). Driver writes (`Model.collection.*`) set it themselves.
 */
export function keepDayOfStart(schema: Schema, opts: { month?: boolean } = {}): void {
  schema.pre('validate', function () {
    const start = this.get('start') as Date | undefined;
    if (!(start instanceof Date) || Number.isNaN(start.getTime())) return;
    this.set('day', shanghaiDay(start));
    if (opts.month) this.set('month', shanghaiDay(start).slice(0, 7));
  });
  schema.pre(['updateOne', 'updateMany', 'findOneAndUpdate'], function () {
    const update = this.getUpdate() as UpdateQuery<{ start?: Date; day?: string; month?: string }> | null;
    if (!update || Array.isArray(update)) return;
    const start = (update.$set?.start ?? update.start) as Date | string | undefined;
    if (start === undefined) return;
    const day = shanghaiDay(new Date(start));
    const target = update.$set?.start !== undefined ? update.$set : update;
    target.day = day;
    if (opts.month) target.month = day.slice(0, 7);
  });
}
