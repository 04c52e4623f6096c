import { Types, trusted } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { Community } from '../../models/community.js';
import { Person, type PersonFields } from '../../models/person.js';
import { UrgentAlert, type UrgentAlertDoc, type UrgentAlertSource } from '../../models/urgentAlert.js';
import type { AuthUser } from '../auth/user.js';
import { hhmm } from '../booking/time.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { notifyMany, type NotificationRequest } from './notify.js';
import { alertRecipients } from './wellness.js';

export interface UrgentSettings {
  escalateAfterMinutes: number;
  dutyPhone: string;
}

/** An open alert older than this is raised again (everyone told again) by a new message. */
export const RAISE_AGAIN_AFTER_MS = 30 * 60_000;
/** Words kept per alert (a flood of messages adds no more). */
const MAX_WORDS = 20;

const openKey = (person: Types.ObjectId | string) => `${person}:open`;
const where = (p: PersonFields) => [p.address?.building, p.address?.unit, p.address?.room].filter(Boolean).join('');

/** The community's duty phone (社区值班电话), else the configured one, else ''. */
export async function dutyPhoneOf(community: Types.ObjectId | null | undefined, settings: UrgentSettings): Promise<string> {
  const c = community ? await Community.findById(community, { dutyPhone: 1 }).lean() : null;
  return c?.dutyPhone || settings.dutyPhone;
}

/**
 * Who is told of a person's urgent alert: their family contacts and the grid workers of their
 * grid (as for wellness alerts), and the active staff of their community.
 */
export async function urgentRecipients(person: PersonFields): Promise<Types.ObjectId[]> {
  const [family, staff] = await Promise.all([
    alertRecipients(person),
    person.community
      ? Person.find({ roles: 'staff', status: 'active', 'staffScope.community': person.community }).select('_id').limit(50).lean()
      : Promise.resolve([]),
  ]);
  const ids = new Map<string, Types.ObjectId>();
  for (const id of [...family, ...staff.map((s) => s._id)]) if (!id.equals(person._id)) ids.set(String(id), id);
  return [...ids.values()];
}

function alertText(person: PersonFields, words: string, source: UrgentAlertSource, raisedAt: Date): string {
  const place = where(person);
  const said = source === 'bot' ? `在微信里发来：“${words.slice(0, 200)}”` : `在小程序按了紧急求助${words ? `：“${words.slice(0, 200)}”` : ''}`;
  return `【紧急求助】${person.name ?? '居民'}${place ? `（${place}）` : ''}${person.phone ? `，电话 ${person.phone}，` : ''}`
    + `${hhmm(raisedAt)} ${said}。请立即打电话或上门查看，需要时拨打 120 / 110 / 119。`
    + '您去处理请回复“收到”（或在小程序中点“我来处理”），其他人会被告知。';
}

export interface RaisedUrgentAlert {
  alert: UrgentAlertDoc;
  /** False when the message was added to an alert already open (nobody is told twice). */
  raised: boolean;
  dutyPhone: string;
}

/**
 * Raises 紧急求助 for `person` (written by them, or sent by `by` acting for them): one open
 * alert per person (a unique key, so racing messages make one), its recipients told at once
 * through the outbox. A message while it is open adds its words; an alert open for more than
 * 30 minutes is raised again. Never refused: whoever writes in distress is heard.
 */
export async function raiseUrgentHelp(
  settings: UrgentSettings,
  person: PersonFields,
  by: Types.ObjectId,
  words: string,
  source: UrgentAlertSource,
  now = new Date(),
): Promise<RaisedUrgentAlert> {
  const [recipients, dutyPhone] = await Promise.all([urgentRecipients(person), dutyPhoneOf(person.community, settings)]);
  const text = words.trim().slice(0, 500);
  let alert: UrgentAlertDoc;
  let raised = true;
  try {
    alert = await UrgentAlert.create({
      person: person._id, community: person.community ?? undefined, raisedBy: by, source, words: text ? [text] : [], raisedAt: now,
      recipients, openKey: openKey(person._id),
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const open = await UrgentAlert.findOne({ openKey: openKey(person._id) });
    if (!open) return raiseUrgentHelp(settings, person, by, words, source, now); // acknowledged meanwhile
    raised = now.getTime() - open.raisedAt.getTime() > RAISE_AGAIN_AFTER_MS;
    const update = raised
      ? { $set: { raisedAt: now, recipients }, $unset: { escalatedAt: 1 } }
      : {};
    alert = (await UrgentAlert.findOneAndUpdate(
      { _id: open._id, status: 'open' },
      { ...update, ...(text ? { $push: { words: trusted({ $each: [text], $slice: -MAX_WORDS }) } } : {}) },
      { returnDocument: 'after' },
    )) ?? open;
  }
  if (raised) {
    const message = alertText(person, text, source, now);
    const requests: NotificationRequest[] = alert.recipients.map((r) => ({
      person: r, key: `urgent-alert:${alert._id}:${now.getTime()}:${r}`, kind: 'urgent_help', text: message, dueAt: now,
    }));
    await notifyMany(requests, now);
  }
  return { alert, raised, dutyPhone };
}

export async function findUrgentAlert(id: string): Promise<UrgentAlertDoc> {
  const alert = Types.ObjectId.isValid(id) ? await UrgentAlert.findById(id) : null;
  if (!alert) throw NotFoundError('没有找到这条紧急求助');
  return alert;
}

/** The open urgent alerts `recipient` was told of, newest first (what their 收到 answers). */
export function openUrgentAlertsFor(recipient: Types.ObjectId | string, limit = 5): Promise<UrgentAlertDoc[]> {
  return UrgentAlert.find({ recipients: new Types.ObjectId(String(recipient)), status: 'open' }).sort({ raisedAt: -1 }).limit(limit);
}

/**
 * The first who answers takes the alert (a guarded update: of racing answers one wins, the
 * others get 409 saying who did); the person and the other recipients are told who comes.
 */
export async function acknowledgeUrgentAlert(user: AuthUser, alert: UrgentAlertDoc, now = new Date()): Promise<UrgentAlertDoc> {
  // The unique (key, slot) claim decides among racing answers: a guarded findOneAndUpdate
  // alone lets two through on FerretDB v1 (STORAGE.md).
  const won = alert.status === 'open' && await CapacityClaim.create({ key: `urgent-ack:${alert._id}`, slot: 1, holder: user.person._id })
    .then(() => true, (err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
      return false;
    });
  const taken = won && await UrgentAlert.findOneAndUpdate(
    { _id: alert._id, status: 'open' },
    { $set: { status: 'acknowledged', acknowledgedBy: user.person._id, acknowledgedAt: now, openKey: `${alert.person}:${alert._id}` } },
    { returnDocument: 'after' },
  );
  if (!taken) {
    const current = await UrgentAlert.findById(alert._id).lean();
    const who = current?.acknowledgedBy ? await Person.findById(current.acknowledgedBy, { name: 1 }).lean() : null;
    throw ConflictError(`${who?.name ?? '其他人'}已经响应了这条紧急求助，不用重复处理。`, 'urgent_already_acknowledged');
  }
  const elder = await Person.findById(taken.person, { name: 1 }).lean();
  const name = user.person.name ?? '工作人员';
  const requests: NotificationRequest[] = [
    { person: taken.person, key: `urgent-alert:${taken._id}:ack:${taken.person}`, kind: 'urgent_help_acknowledged', text: `${name}收到了您的求助，正在联系您、会尽快赶到。如有生命危险请直接拨打 120。`, dueAt: now },
    ...taken.recipients.filter((r) => String(r) !== user.id).map((r) => ({
      person: r, key: `urgent-alert:${taken._id}:ack:${r}`, kind: 'urgent_help_acknowledged',
      text: `【紧急求助已有人处理】${elder?.name ?? '居民'}的求助已由${name}在 ${hhmm(now)} 响应。`, dueAt: now,
    })),
  ];
  await notifyMany(requests, now);
  return taken;
}

/**
 * Urgent alerts nobody acknowledged `escalateAfterMinutes` after they were raised: the admins
 * (of the community, or unscoped) are told, once per alert and admin, and the alert is marked.
 * Oldest first, at most `limit` a run; re-runnable.
 */
export async function escalateUnacknowledgedUrgentAlerts(settings: UrgentSettings, now: Date, limit = 200): Promise<{ alerts: number; notified: number }> {
  const alerts = await UrgentAlert.find({
    status: 'open',
    raisedAt: trusted({ $lte: new Date(now.getTime() - settings.escalateAfterMinutes * 60_000) }),
    escalatedAt: trusted({ $exists: false }),
  }).sort({ raisedAt: 1 }).limit(limit).lean();
  if (!alerts.length) return { alerts: 0, notified: 0 };
  const [admins, persons] = await Promise.all([
    Person.find({ roles: 'admin', status: 'active' }).select('staffScope').lean(),
    Person.find({ _id: trusted({ $in: alerts.map((a) => a.person) }) }).select('name phone address community').lean(),
  ]);
  const byId = new Map(persons.map((p) => [String(p._id), p]));
  const requests: NotificationRequest[] = [];
  for (const a of alerts) {
    const p = byId.get(String(a.person));
    const minutes = Math.floor((now.getTime() - a.raisedAt.getTime()) / 60_000);
    const text = `【紧急求助无人响应】${p?.name ?? '居民'}${p && where(p) ? `（${where(p)}）` : ''}${p?.phone ? `，电话 ${p.phone}，` : ''}`
      + `${hhmm(a.raisedAt)} 发来：“${a.words.at(-1) ?? '紧急求助'}”，已过 ${minutes} 分钟仍没有人响应。请立即安排人员联系或上门，必要时拨打 120 / 110 / 119。`;
    for (const admin of admins) {
      const scope = admin.staffScope?.community;
      if (scope && String(scope) !== String(a.community)) continue;
      requests.push({ person: admin._id, key: `urgent-alert:${a._id}:escalated:${a.raisedAt.getTime()}:${admin._id}`, kind: 'urgent_help_escalated', text, dueAt: now });
    }
  }
  const notified = await notifyMany(requests, now);
  await UrgentAlert.updateMany({ _id: trusted({ $in: alerts.map((a) => a._id) }), status: 'open' }, { $set: { escalatedAt: now } });
  return { alerts: alerts.length, notified };
}
