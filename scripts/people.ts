/**
 * Who `--as` names, for the local tools (`npm run token`, `npm run chat`):
 *   resident   the first active person whose only role is resident, aged 60 or more, and
 *              preferably with no active 代办 link (one who books for themself)
 *   elder      the oldest active resident aged 80+ tagged 独居 (the demo's 86-year-old)
 *   proxy      the proxy of the first active 代办 link (a family member or grid worker)
 *   volunteer  the first active volunteer (a verified one when there is one)
 *   staff      the first active staff member
 *   admin      the first active admin
 * or a phone number, or a person id. "First" is in creation order.
 */
import { parseArgs } from 'node:util';
import { trusted } from 'mongoose';
import { Person, ProxyLink, ageOn, type PersonDoc } from '../models/index.js';

const PICKS = ['resident', 'elder', 'proxy', 'volunteer', 'staff', 'admin'] as const;
type Pick = (typeof PICKS)[number];
const PHONE = /^1\d{10}$|^0\d{2,3}-?\d{7,8}$/;
const PERSON_ID = /^[0-9a-f]{24}$/i;
const usage = (command: string) => `usage: npm run -s ${command} -- --as ${PICKS.join('|')}|<phone>|<personId>`;

/** A failure the operator can act on: its message is printed without a stack. */
export class Refusal extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The person `--as` names, from the command line of `command`; exits on --help. */
export function parseWho(command: string): string {
  const USAGE = usage(command);
  let values: { as?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { as: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    throw new Refusal(`${(err as Error).message}\n${USAGE}`, 64);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const who = values.as?.trim();
  if (!who) throw new Refusal(USAGE, 64);
  if (!(PICKS as readonly string[]).includes(who) && !PHONE.test(who) && !PERSON_ID.test(who)) {
    throw new Refusal(`--as ${who}: not one of ${PICKS.join(', ')}, a phone number or a person id\n${USAGE}`, 64);
  }
  return who;
}

const isElder = (p: PersonDoc, years: number, now: Date) => !!p.birthDate && ageOn(p.birthDate, now) >= years;

/** The person a pick names, or null when the database has none. */
async function pickPerson(pick: Pick, now: Date): Promise<PersonDoc | null> {
  const active = { status: 'active' as const };
  switch (pick) {
    case 'resident': {
      // Preferably one who books for themself (no active 代办 link), so that `resident` and
      // `elder` are two different people in the demo; otherwise any such elder.
      const candidates = await Person.find({ ...active, roles: 'resident', birthDate: trusted({ $exists: true }) }).sort({ _id: 1 });
      const elders = candidates.filter((p) => p.roles.length === 1 && isElder(p, 60, now));
      for (const p of elders) if (!(await ProxyLink.exists({ elder: p._id, status: 'active' }))) return p;
      return elders[0] ?? null;
    }
    case 'elder': {
      const candidates = await Person.find({ ...active, roles: 'resident', tags: '独居', birthDate: trusted({ $exists: true }) }).sort({ birthDate: 1 });
      return candidates.find((p) => isElder(p, 80, now)) ?? null;
    }
    case 'proxy': {
      for await (const link of ProxyLink.find({ status: 'active' }).sort({ _id: 1 }).cursor()) {
        const proxy = await Person.findOne({ _id: link.proxy, ...active });
        if (proxy) return proxy;
      }
      return null;
    }
    case 'volunteer':
      return (
        (await Person.findOne({ ...active, roles: 'volunteer', 'volunteer.verified': true }).sort({ _id: 1 })) ??
        (await Person.findOne({ ...active, roles: 'volunteer' }).sort({ _id: 1 }))
      );
    case 'staff':
    case 'admin':
      return Person.findOne({ ...active, roles: pick }).sort({ _id: 1 });
  }
}

/** The person `who` (a pick, a phone number or an id) names; a Refusal when there is none. */
export async function findPerson(who: string, now: Date): Promise<PersonDoc> {
  if ((PICKS as readonly string[]).includes(who)) {
    const person = await pickPerson(who as Pick, now);
    if (!person) throw new Refusal(`no ${who} in this database: seed the demo first (npm run seed)`, 1);
    return person;
  }
  const matches = PERSON_ID.test(who) ? await Person.find({ _id: who }) : await Person.find({ phone: who }).sort({ _id: 1 });
  const usable = matches.filter((p) => p.status !== 'anonymised');
  if (usable.length === 0) {
    const why = matches.length > 0 ? 'that account has been deleted (anonymised)' : 'no such person in this database';
    throw new Refusal(`--as ${who}: ${why}; seed the demo with npm run seed, or pick ${PICKS.join(', ')}`, 1);
  }
  if (usable.length > 1) {
    // A landline may be shared: let the operator choose by id rather than guess.
    const list = usable.map((p) => `  ${String(p._id)}  ${p.roles.join(',')}`).join('\n');
    throw new Refusal(`--as ${who}: ${usable.length} people share this number; use --as <personId>:\n${list}`, 1);
  }
  return usable[0]!;
}
