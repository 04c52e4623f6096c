import { AuthorizationError } from '../errors.js';
import type { AuthUser } from '../auth/user.js';

type Rule<R> = (user: AuthUser, record: R) => boolean;

/**
 * A record a policy can be asked about: a mongoose document, a plain record marked with
 * `recordOf`, or a model for class-level actions.
 */
type Subject = object;

const rules = new Map<string, Rule<never>>();
const MODEL_NAME = Symbol('policy model name');

/**
 * Marks a plain record (a lean read, a cached entry) as one of `model`'s, so policies can
 * judge it without a mongoose document: hydrating one costs more CPU than the policy itself on
 * the booking path (docs/performance.md). The mark is a non-enumerable symbol, so spreading
 * or presenting the record leaves it behind.
 */
export function recordOf<R extends object>(model: { modelName: string }, record: R): R {
  Object.defineProperty(record, MODEL_NAME, { value: model.modelName });
  return record;
}

function modelNameOf(subject: Subject): string {
  const marked = (subject as { [MODEL_NAME]?: string })[MODEL_NAME];
  if (marked) return marked;
  if ('modelName' in subject && typeof subject.modelName === 'string') return subject.modelName;
  const name = (subject.constructor as { modelName?: string }).modelName;
  if (!name) throw new Error('authorize() needs a mongoose document or model, or a record marked by recordOf()');
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
