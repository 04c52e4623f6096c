import { Types } from 'mongoose';
import { Person, type PersonFields } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { NotFoundError, ResidentNotVerifiedError } from '../errors.js';
import { authorize } from '../policies/index.js';

/**
 * The person a booking is for: the caller, or (代办) an elder they act for, or (staff) a
 * resident of their community. Every booking records both: bookedBy = caller, bookedFor = this.
 */
export async function beneficiary(user: AuthUser, forPerson?: string): Promise<PersonFields> {
  const person = !forPerson || forPerson === user.id
    ? user.person
    : Types.ObjectId.isValid(forPerson) ? await Person.findById(forPerson) : null;
  if (!person || person.status === 'anonymised') throw NotFoundError('没有找到要代为预约的居民');
  authorize(user, 'bookFor', person);
  if (person.status !== 'active') throw ResidentNotVerifiedError();
  return person;
}
