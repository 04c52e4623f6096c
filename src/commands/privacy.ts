import { trusted } from 'mongoose';
import type { Redis } from 'ioredis';
import { AuditEntry } from '../../models/auditEntry.js';
import { Child } from '../../models/child.js';
import { Identity } from '../../models/identity.js';
import type { PersonDoc } from '../../models/person.js';
import { ProxyLink } from '../../models/proxyLink.js';
import { revokeAllSessions, type SessionSettings } from '../auth/sessions.js';
import { forgetBotContacts } from '../outbox/contacts.js';
import { auditAction } from './audit.js';
import { forgetMealContacts } from './mealOrders.js';

/**
 * Everything the service holds about a person, for their own download: the record, how they
 * sign in (providers only: identifiers and hashes stay server-side), their 代办 links, their
 * children, and who on the staff read or changed their data.
 */
export async function exportPersonData(person: PersonDoc) {
  const [identities, links, children, audit] = await Promise.all([
    Identity.find({ person: person._id }),
    ProxyLink.find({ $or: [{ proxy: person._id }, { elder: person._id }] }),
    Child.find({ parents: person._id }),
    AuditEntry.find({ subject: person._id }).sort({ at: -1 }).limit(1000),
  ]);
  return {
    exportedAt: new Date(),
    person: person.toObject({ versionKey: false }),
    signIns: identities.map((i) => ({ provider: i.provider, since: i.get('createdAt') as Date })),
    proxyLinks: links.map((l) => ({
      id: String(l._id),
      role: String(l.proxy) === String(person._id) ? 'proxy' : 'elder',
      relation: l.relation,
      status: l.status,
    })),
    children: children.map((c) => c.toObject({ versionKey: false })),
    accessLog: audit.map((a) => ({ action: a.action, at: a.at, fields: a.fields ?? [] })),
  };
}

/**
 * Deletion on request: erases what identifies the person and keeps what the statistics need
 * (community, grid, building, tags, birth year, roles). Sign-ins, sessions, bot bindings and
 * 代办 links end at once.
 */
export async function anonymisePerson(
  deps: { sessions: SessionSettings; redis: Redis },
  person: PersonDoc,
  requestId?: string,
): Promise<void> {
  const birthYear = person.birthDate ? new Date(Date.UTC(person.birthDate.getUTCFullYear(), 6, 1)) : undefined;
  person.set({
    status: 'anonymised',
    name: '已注销居民',
    phone: undefined,
    birthDate: birthYear,
    gender: undefined,
    address: { building: person.address?.building, unit: undefined, room: undefined },
    emergencyContact: undefined,
    dietaryNeeds: [],
    // Staff's note on a refused sign-up may describe the person.
    verificationRejection: undefined,
  });
  // A volunteer's photo identifies them; skills and hours stay for the service statistics.
  if (person.volunteer?.photoUrl) person.set('volunteer.photoUrl', undefined);
  await person.save();
  await Identity.deleteMany({ person: person._id });
  await forgetBotContacts(person._id);
  await forgetMealContacts(person._id, deps.redis);
  await ProxyLink.updateMany(
    { $or: [{ proxy: person._id }, { elder: person._id }], status: trusted({ $ne: 'revoked' }) },
    { $set: { status: 'revoked', revokedAt: new Date() } },
  );
  await revokeAllSessions(deps.sessions, person._id);
  await deps.redis.del(`wechat:session-key:${person._id}`);
  await auditAction(person._id, 'person.anonymise', person._id, { requestId });
}
