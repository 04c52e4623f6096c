import type { ProxyLinkDoc } from '../../models/proxyLink.js';
import type { PersonFields } from '../../models/person.js';
import { isAdmin, isStaffOver } from '../auth/user.js';
import { allow } from './policy.js';

/** A link with its elder loaded (policies need the elder's community). */
export type ProxyLinkWithElder = ProxyLinkDoc & { elder: PersonFields };

const isParty = (userId: string, link: ProxyLinkWithElder) =>
  userId === String(link.proxy) || userId === String(link.elder._id);

allow<ProxyLinkWithElder>('ProxyLink', ['read', 'revoke'], (user, link) =>
  isParty(user.id, link) || isStaffOver(user, link.elder.community) || isAdmin(user));

// Only the elder (from their own account) or staff turn a request into a working link.
allow<ProxyLinkWithElder>('ProxyLink', ['confirm'], (user, link) =>
  user.id === String(link.elder._id) || isStaffOver(user, link.elder.community) || isAdmin(user));
