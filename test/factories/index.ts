/**
 * Small factories that insert linked, valid documents through the real models and return
 * them. Each takes overrides; what it needs and is not given (a community, a facility) it
 * creates. Natural keys (codes, names, phones) are unique within the run.
 */
export * from './community.js';
export * from './person.js';
export * from './room.js';
export * from './meal.js';
export * from './childcare.js';
export * from './volunteerTask.js';
export { fakePhone, nextSeq } from './sequence.js';
export * from './notification.js';
