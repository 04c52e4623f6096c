import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

export const EXPORT_STATUSES = ['preparing', 'ready', 'failed', 'expired'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** The `slot` of a person's export while it is preparing: one at a time per person. */
export const preparingSlot = (person: unknown) => `preparing:${String(person)}`;

/**
 * A person's data export (PIPL right of access), prepared in the background
 * (src/commands/personalDataExport.ts). The JSON itself is in PersonalDataExportChunk; this
 * record says where it stands.
 *
 * `slot` is unique and always set: `preparing:<person>` while preparing, the export's own id
 * afterwards. The insert of a new export with `preparing:<person>` is what decides, across
 * instances and without a transaction, that a person has one export preparing at a time
 * (FerretDB v1 has no partial unique index, so the key is a field every record carries).
 */
const personalDataExportSchema = new Schema(
  {
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    slot: { type: String, required: true },
    status: { type: String, enum: EXPORT_STATUSES, required: true },
    requestedAt: { type: Date, required: true },
    /** A preparation holds the export until then; past it, the resume job takes it over. */
    leaseUntil: { type: Date },
    attempts: { type: Number, default: 0 },
    readyAt: { type: Date },
    /** The file is deleted then (personalDataExports.prune); the record stays as `expired`. */
    expiresAt: { type: Date },
    /** How long the last preparation took (ms): the background cost bench:year reports. */
    preparedMs: { type: Number },
    /** Size of the JSON in bytes (UTF-8), gzipped as stored, its piece count and its records. */
    bytes: { type: Number },
    gzipBytes: { type: Number },
    chunks: { type: Number },
    records: { type: Number },
    /** Whether the person was told it is ready (the resume job tells those it was not). */
    told: { type: Boolean, default: false },
    /** An error code (never a message with personal data) once it failed. */
    error: { type: String },
  },
  { timestamps: true },
);
personalDataExportSchema.index({ slot: 1 }, { unique: true });
personalDataExportSchema.index({ person: 1 });
personalDataExportSchema.index({ status: 1 });
personalDataExportSchema.index({ status: 1, told: 1 });

/**
 * One piece of an export's file, `_id` `<export id>:<attempt>:<seq>` (chunkKey): the JSON,
 * gzipped (a year of a busy resident: 0.9 MB of JSON, a tenth of it gzipped, which is what
 * FerretDB decodes and the phone downloads), cut into pieces of at most 4 MB, because a person's
 * data can exceed the 16 MB document limit (EXPORT_LIMIT records of each of 17 kinds). The file
 * is read by `_id`. The attempt keeps a preparation that lost its lease from mixing its pieces
 * with the one that took over.
 */
const personalDataExportChunkSchema = new Schema(
  {
    _id: { type: String, required: true },
    export: { type: Schema.Types.ObjectId, ref: 'PersonalDataExport', required: true },
    attempt: { type: Number, required: true },
    seq: { type: Number, required: true },
    gzip: { type: Buffer, required: true },
  },
  { versionKey: false },
);
personalDataExportChunkSchema.index({ export: 1 });
personalDataExportChunkSchema.index({ export: 1, attempt: 1 });

export type PersonalDataExportFields = InferRawDocTypeFromSchema<typeof personalDataExportSchema> & { _id: import('mongoose').Types.ObjectId };
export type PersonalDataExportDoc = HydratedDocumentFromSchema<typeof personalDataExportSchema>;
export const PersonalDataExport = model('PersonalDataExport', personalDataExportSchema);
export const PersonalDataExportChunk = model('PersonalDataExportChunk', personalDataExportChunkSchema);

/** The `_id` of piece `seq` written by preparation `attempt` of an export. */
export const chunkKey = (exportId: unknown, attempt: number, seq: number) => `${String(exportId)}:${attempt}:${seq}`;
