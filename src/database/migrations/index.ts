import { CreateUsersAndSessions1763900000000 } from './1763900000000-CreateUsersAndSessions';

/** Every migration, oldest first. Explicit so the same list works under ts-jest and in dist/. */
export const MIGRATIONS = [CreateUsersAndSessions1763900000000];
