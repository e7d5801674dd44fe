import { CreateUsersAndSessions1763900000000 } from './1763900000000-CreateUsersAndSessions';
import { AddUserGroups1763900100000 } from './1763900100000-AddUserGroups';
import { CreateApiKeys1763900200000 } from './1763900200000-CreateApiKeys';

/** Every migration, oldest first. Explicit so the same list works under ts-jest and in dist/. */
export const MIGRATIONS = [CreateUsersAndSessions1763900000000, AddUserGroups1763900100000, CreateApiKeys1763900200000];
