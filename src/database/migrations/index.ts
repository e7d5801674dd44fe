import { CreateUsersAndSessions1763900000000 } from './1763900000000-CreateUsersAndSessions';
import { AddUserGroups1763900100000 } from './1763900100000-AddUserGroups';
import { CreateApiKeys1763900200000 } from './1763900200000-CreateApiKeys';
import { CreatePlugins1763900300000 } from './1763900300000-CreatePlugins';
import { CreatePluginTokens1763900400000 } from './1763900400000-CreatePluginTokens';
import { CreateIdentities1763900500000 } from './1763900500000-CreateIdentities';
import { AddBrowserSessions1763900600000 } from './1763900600000-AddBrowserSessions';
import { CreateDeviceLogins1763900700000 } from './1763900700000-CreateDeviceLogins';
import { CreateAuditEvents1763900800000 } from './1763900800000-CreateAuditEvents';
import { CreateCredentialUses1763900900000 } from './1763900900000-CreateCredentialUses';
import { AddUserKind1763901000000 } from './1763901000000-AddUserKind';
import { AddSessionChainAndIdle1763901200000 } from './1763901200000-AddSessionChainAndIdle';
import { CreatePluginInvitations1763901300000 } from './1763901300000-CreatePluginInvitations';
import { CreateOfflineTokenGrants1763901400000 } from './1763901400000-CreateOfflineTokenGrants';
import { CreateOfflineTokenRotations1763901500000 } from './1763901500000-CreateOfflineTokenRotations';
import { CreateOfflineTokenLeases1763901550000 } from './1763901550000-CreateOfflineTokenLeases';
import { CreateRevocationEvents1763901600000 } from './1763901600000-CreateRevocationEvents';
import { CreateRoles1763901700000 } from './1763901700000-CreateRoles';
import { CreateTrustedPublishers1763901800000 } from './1763901800000-CreateTrustedPublishers';
import { CreatePluginFiles1763901900000 } from './1763901900000-CreatePluginFiles';

/** Every migration, oldest first. Explicit so the same list works under ts-jest and in dist/. */
export const MIGRATIONS = [
  CreateUsersAndSessions1763900000000,
  AddUserGroups1763900100000,
  CreateApiKeys1763900200000,
  CreatePlugins1763900300000,
  CreatePluginTokens1763900400000,
  CreateIdentities1763900500000,
  AddBrowserSessions1763900600000,
  CreateDeviceLogins1763900700000,
  CreateAuditEvents1763900800000,
  CreateCredentialUses1763900900000,
  AddUserKind1763901000000,
  AddSessionChainAndIdle1763901200000,
  CreatePluginInvitations1763901300000,
  CreateOfflineTokenGrants1763901400000,
  CreateOfflineTokenRotations1763901500000,
  CreateOfflineTokenLeases1763901550000,
  CreateRevocationEvents1763901600000,
  CreateRoles1763901700000,
  CreateTrustedPublishers1763901800000,
  CreatePluginFiles1763901900000,
];
