import { Schema, model } from 'mongoose';

/**
 * The furthest month ('YYYY-MM') a person's own list may hold a record in, per list:
 * `_id` is `<list>:<owner>` (`room-bookings:<person>`, `volunteer-assignments:<person>`,
 * `childcare-bookings:<parent>`, `childcare-child:<child>`), with the earliest month too. A list read a month at a
 * time newest first (src/commands/monthWalk.ts) starts there, so a cancelled or released record
 * far ahead is not missed, without reading the person's whole history to find the newest month
 * (FerretDB v1 sorts and ranges in Go).
 *
 * Writes widen it with `$max` / `$min` (upsert) after inserting or moving a record; `complete` is set
 * only by a reader that took the month from a full read of the person's records, so a horizon
 * made by writes alone (a person with records from before it existed) is not trusted.
 */
const listHorizonSchema = new Schema(
  {
    _id: { type: String, required: true },
    month: { type: String, required: true },
    /** The earliest month it may hold a record in: the walk stops there. */
    oldest: { type: String, required: true },
    complete: { type: Boolean, default: false },
    /**
     * About how many records the list has (counted on insert, set from the full read): only
     * chooses how to read it — a list that fits in a page or two is one read, not a walk.
     */
    count: { type: Number, default: 0 },
  },
  { versionKey: false },
);

export const ListHorizon = model('ListHorizon', listHorizonSchema);
