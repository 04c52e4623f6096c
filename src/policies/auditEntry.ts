import { isAdmin } from '../auth/user.js';
import { allow } from './policy.js';

// The audit log is about staff; only admins read it.
allow('AuditEntry', ['list'], (user) => isAdmin(user));
