import { ageOn, derivedTags, type PersonFields } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { seesFullPhone } from '../policies/index.js';
import { idOf, idOrNull, listOf } from './fields.js';

/** 13812341234 → 138****1234; 020-12345678 → 020****5678. Short or missing values pass through masked. */
export function maskPhone(phone: string | null | undefined): string | null {
  if (!phone) return null;
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7) return '****';
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

/**
 * What a viewer may read of a person. Phones (the person's and their emergency contact's)
 * are masked for everyone but the person and staff over them; the birth date becomes an age
 * for viewers who are not the person or staff.
 */
export function presentPerson(person: PersonFields, viewer: AuthUser, now = new Date()) {
  const full = seesFullPhone(viewer, person);
  const phone = (value?: string | null) => (full ? value ?? null : maskPhone(value));
  return {
    id: idOf(person._id),
    status: person.status ?? 'pending',
    name: person.name ?? null,
    phone: phone(person.phone),
    ...(full ? { birthDate: person.birthDate ?? null } : {}),
    age: person.birthDate ? ageOn(person.birthDate, now) : null,
    gender: person.gender ?? null,
    community: idOrNull(person.community),
    address: {
      building: person.address?.building ?? null,
      unit: person.address?.unit ?? null,
      room: person.address?.room ?? null,
    },
    grid: person.grid ?? null,
    tags: derivedTags(person, now),
    dietaryNeeds: listOf(person.dietaryNeeds),
    emergencyContact: person.emergencyContact?.name
      ? {
          name: person.emergencyContact.name,
          relation: person.emergencyContact.relation ?? null,
          phone: phone(person.emergencyContact.phone),
        }
      : null,
    roles: listOf(person.roles),
    verificationRejection: person.verificationRejection?.reason
      ? { reason: person.verificationRejection.reason, at: person.verificationRejection.at ?? null }
      : null,
  };
}

/**
 * A resident's record as staff over them see it on its own page (the console's 居民资料):
 * the person, and whether a WeChat contact of the bot is bound to them.
 */
export function presentResidentForStaff(person: PersonFields, viewer: AuthUser, botBound: boolean, now = new Date()) {
  return { ...presentPerson(person, viewer, now), botBound };
}
