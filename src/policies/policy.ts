import { AuthorizationError } from '../errors.js';
import type { AuthUser } from '../auth/user.js';

type Rule<R> = (user: AuthUser, record: R) => boolean;

/** A record a policy can be asked about: a mongoose document, or a model for class-level actions. */
type Subject = object;

const rules = new Map<string, Rule<never>>();

function modelNameOf(subject: Subject): string {
  if ('modelName' in subject && typeof subject.modelName === 'string') return subject.modelName;
  const name = (subject.constructor as { modelName?: string }).modelName;
  if (!name) throw new Error('authorize() needs a mongoose document or model');
  return name;
}

/** Declares who may do `actions` on records of `modelName` (see src/policies/*.ts). */
export function allow<R>(modelName: string, actions: string[], rule: Rule<R>): void {
  for (const action of actions) rules.set(`${modelName}:${action}`, rule as Rule<never>);
}

/** Whether `user` may do `action` on `record`; an action nobody declared is refused. */
export function can(user: AuthUser, action: string, record: Subject): boolean {
  const rule = rules.get(`${modelNameOf(record)}:${action}`);
  return rule ? rule(user, record as never) : false;
}

/** Throws 403 unless `user` may do `action` on `record`. Every route, bot command and job asks here. */
export function authorize(user: AuthUser, action: string, record: Subject): void {
  if (!can(user, action, record)) throw AuthorizationError();
}
