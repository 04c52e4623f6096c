import type { PersonFields } from '../../models/person.js';
import { ProxyLink, type ProxyLinkDoc } from '../../models/proxyLink.js';
import { idOf } from './fields.js';
import { maskPhone } from './person.js';

export type ProxyLinkWithParties = Omit<ProxyLinkDoc, 'proxy' | 'elder'> & { proxy: PersonFields; elder: PersonFields };

/** Loads a link with both parties, as presentProxyLink needs. */
export async function withParties(link: ProxyLinkDoc | { _id: unknown }): Promise<ProxyLinkWithParties> {
  return (await ProxyLink.findById(link._id).populate<{ proxy: PersonFields; elder: PersonFields }>(['proxy', 'elder']))!;
}

const party = (p: PersonFields | null | undefined) => ({ id: idOf(p?._id), name: p?.name ?? null, phone: maskPhone(p?.phone) });

/** A 代办 link with both parties' names and masked phones. */
export function presentProxyLink(link: ProxyLinkWithParties) {
  return {
    id: idOf(link._id),
    relation: link.relation,
    status: link.status,
    confirmedBy: link.confirmedBy ?? null,
    proxy: party(link.proxy),
    elder: party(link.elder),
  };
}
