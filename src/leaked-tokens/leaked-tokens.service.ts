import { Injectable, Logger } from '@nestjs/common';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditService } from '../audit/audit.service';
import { TOKEN_PREFIXES } from '../common/auth/token-format';
import { PluginTokensService } from '../plugin-tokens/plugin-tokens.service';
import { SessionsService } from '../sessions/sessions.service';

/** Who reported a leak: GitHub's secret scanning (a partner report) or anyone, through the public form. */
export type LeakReporter = 'github_secret_scanning' | 'public_report';

export interface LeakReport {
  readonly reporter: LeakReporter;
  /** Where it was found (a commit URL, a paste), as reported; may be empty. */
  readonly url: string | null;
  /** GitHub's `source` (content, commit, issue_comment, …), or null. */
  readonly source: string | null;
}

/** The kinds of credential a leak report can end, as the audit log names them. */
export type LeakedKind = 'api_key' | 'deploy_token' | 'refresh_token';

/**
 * Leaked tokens, reported by a secret scanner or by whoever found one: every one of ours among
 * them is revoked at once (API keys, deploy tokens, refresh tokens with their session), and the
 * owner, or the plugin's maintainers, see it in the audit log (`credential.leak_reported`, with
 * where it was found) and on /account or the plugin's token page. A value is recognised by its
 * prefix and checksum first (`isWellFormedToken`): a look-alike costs no database query.
 */
@Injectable()
export class LeakedTokensService {
  private readonly logger = new Logger(LeakedTokensService.name);

  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly deployTokens: PluginTokensService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  /** Revokes `token` if it is a live credential of ours; returns what kind it was, null when none of ours. */
  async report(token: string, report: LeakReport): Promise<LeakedKind | null> {
    const found = await this.find(token);
    if (!found) return null;
    this.logger.warn(`${found.kind} ${found.subject.id} reported leaked (${report.reporter}); ${found.wasLive ? 'revoked' : 'it no longer worked'}`);
    await this.audit.record('credential.leak_reported', {
      actor: { type: 'system', label: report.reporter === 'github_secret_scanning' ? 'GitHub secret scanning' : 'a public leak report' },
      subject: found.subject,
      userId: found.userId,
      pluginId: found.pluginId,
      details: { kind: found.kind, reporter: report.reporter, url: report.url, source: report.source, was_live: found.wasLive },
    });
    return found.kind;
  }

  /**
   * A report from anyone (the API's `/leaks/report`, the `/report-leak` page): processed after the
   * caller has had its answer, so that neither the answer nor its timing tells whether the token
   * was real. Never throws; a failure is logged.
   */
  acceptPublicReport(token: string, url: string | undefined): void {
    this.report(token, { reporter: 'public_report', url: url?.trim() || null, source: null }).catch((error: Error) =>
      this.logger.error(`a public leak report could not be processed: ${error.message}`),
    );
  }

  private async find(token: string): Promise<{
    kind: LeakedKind;
    wasLive: boolean;
    subject: { type: string; id: string; label: string };
    userId?: string;
    pluginId?: string;
  } | null> {
    if (token.startsWith(TOKEN_PREFIXES.personalApiKey)) {
      const hit = await this.apiKeys.revokeBySecret(token);
      return hit && { kind: 'api_key', wasLive: hit.wasLive, subject: { type: 'api_key', id: hit.key.id, label: hit.key.firstEight }, userId: hit.key.userId };
    }
    if (token.startsWith(TOKEN_PREFIXES.deployToken)) {
      const hit = await this.deployTokens.revokeBySecret(token, 'a leak report');
      return (
        hit && {
          kind: 'deploy_token',
          wasLive: hit.wasLive,
          subject: { type: 'deploy_token', id: hit.token.id, label: hit.token.description },
          pluginId: hit.token.pluginId,
        }
      );
    }
    if (token.startsWith(TOKEN_PREFIXES.refreshToken)) {
      const hit = await this.sessions.revokeIfRefreshToken(token);
      return hit && { kind: 'refresh_token', wasLive: hit.wasLive, subject: { type: 'session', id: hit.session.id, label: 'refresh token' }, userId: hit.session.userId };
    }
    return null;
  }
}
