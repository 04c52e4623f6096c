import { Types, trusted } from 'mongoose';
import { Person, type PersonFields } from '../../models/person.js';
import { ProxyLink, type ProxyRelation } from '../../models/proxyLink.js';
import type { AuthUser } from '../auth/user.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { ProxyLinkWithElder } from '../policies/proxyLink.js';
import { auditAction } from './audit.js';

/** Loads a link with its elder, as the policies need; 404 when there is none. */
export async function findProxyLink(id: string): Promise<ProxyLinkWithElder> {
  const link = Types.ObjectId.isValid(id) ? await ProxyLink.findById(id).populate<{ elder: PersonFields }>('elder') : null;
  if (!link || !link.elder) throw NotFoundError('没有找到这条代办关联');
  return link as unknown as ProxyLinkWithElder;
}

async function upsertLink(proxy: Types.ObjectId | string, elder: PersonFields, relation: ProxyRelation, active: boolean) {
  if (String(proxy) === String(elder._id)) throw ValidationError('不能为自己办理代办关联');
  const now = new Date();
  // One document per pair: a revoked link is reopened rather than duplicated.
  return ProxyLink.findOneAndUpdate(
    { proxy, elder: elder._id },
    active
      ? { $set: { relation, status: 'active', confirmedBy: 'staff', confirmedAt: now }, $unset: { revokedAt: 1 } }
      : { $set: { relation, status: 'pending' }, $unset: { confirmedBy: 1, confirmedAt: 1, revokedAt: 1 } },
    { upsert: true, returnDocument: 'after', runValidators: true },
  );
}

/**
 * A family member or grid worker asks to act for an elder, named by phone and name (both
 * must match, so a phone number alone reveals nobody). The elder confirms from their own
 * account, or staff do.
 */
export async function requestProxyLink(user: AuthUser, elderPhone: string, elderName: string, relation: ProxyRelation) {
  const elder = await Person.findOne({ phone: elderPhone, name: elderName, status: 'active' });
  if (!elder) throw NotFoundError('没有找到这位居民，请核对姓名和手机号，或请社区工作人员帮您关联');
  const existing = await ProxyLink.findOne({ proxy: user.id, elder: elder._id, status: 'active' });
  if (existing) throw ConflictError('您已经可以为这位居民代办，无需重复申请', 'already_linked');
  const link = await upsertLink(user.id, elder, relation, false);
  await auditAction(user.id, 'proxyLink.request', elder._id);
  return link;
}

/** Staff link a helper to an elder directly (e.g. the elder has no smartphone). */
export async function linkProxyByStaff(user: AuthUser, proxyId: string, elder: PersonFields, relation: ProxyRelation) {
  const proxy = await Person.findOne({ _id: proxyId, status: trusted({ $ne: 'anonymised' }) });
  if (!proxy) throw NotFoundError('没有找到要关联的代办人');
  const link = await upsertLink(proxy._id, elder, relation, true);
  await auditAction(user.id, 'proxyLink.create', elder._id);
  return link;
}

/** The elder (or staff) confirms a pending request; only a pending link can be confirmed. */
export async function confirmProxyLink(user: AuthUser, link: ProxyLinkWithElder) {
  const byElder = user.id === String(link.elder._id);
  const confirmed = await ProxyLink.findOneAndUpdate(
    { _id: link._id, status: 'pending' },
    { $set: { status: 'active', confirmedBy: byElder ? 'elder' : 'staff', confirmedAt: new Date() } },
    { returnDocument: 'after' },
  );
  if (!confirmed) throw ConflictError('这条代办申请已处理或已撤销', 'proxy_link_not_pending');
  await auditAction(user.id, 'proxyLink.confirm', link.elder._id);
  return confirmed;
}

/** Ends a link at once: from the next request on, the helper can no longer act for the elder. */
export async function revokeProxyLink(user: AuthUser, link: ProxyLinkWithElder) {
  const revoked = await ProxyLink.findOneAndUpdate(
    { _id: link._id, status: trusted({ $ne: 'revoked' }) },
    { $set: { status: 'revoked', revokedAt: new Date() } },
    { returnDocument: 'after' },
  );
  if (!revoked) throw ConflictError('这条代办关联已撤销', 'proxy_link_revoked');
  await auditAction(user.id, 'proxyLink.revoke', link.elder._id);
  return revoked;
}
