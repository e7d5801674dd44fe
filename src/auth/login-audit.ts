import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';

/** How a login happened, in the audit log's words. */
export type LoginMethod = 'password' | 'oidc' | 'oidc-browser' | 'oidc-api' | 'oidc-device' | 'oidc-offline-token';

/**
 * The two login events, the same for every way in. A success is done by the user who logged in
 * (there is no principal yet); a failure by nobody known, and it concerns an existing account
 * when the attempt named one, so its owner sees it at /users/me/audit. The attempted name of an
 * unknown account is not kept: people type passwords into username fields.
 */
@Injectable()
export class LoginAudit {
  constructor(private readonly audit: AuditService) {}

  succeeded(user: { id: string; username: string }, sessionId: string, provider: string, method: LoginMethod): Promise<void> {
    return this.audit.record('login.succeeded', {
      actor: { type: 'user', id: user.id, label: user.username },
      subject: { type: 'session', id: sessionId },
      userId: user.id,
      details: { provider, method },
    });
  }

  failed(provider: string, method: LoginMethod, reason: string, account?: { id: string; username: string } | null): Promise<void> {
    return this.audit.record('login.failed', {
      actor: { type: 'anonymous' },
      subject: account ? { type: 'user', id: account.id, label: account.username } : undefined,
      userId: account?.id,
      details: { provider, method, reason },
    });
  }
}
