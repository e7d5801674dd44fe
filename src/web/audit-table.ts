import type { AuditEvent } from '../audit/audit-event.entity';
import type { AuditQuery } from '../audit/audit.service';
import { html, SafeHtml } from '../common/html/html';
import { when } from '../common/html/view-helpers';

/** Audit events as a table (newest first): when, what, who, about what, from where. */
export function auditTable(events: AuditEvent[]): SafeHtml {
  if (events.length === 0) return html`<p class="empty">No events yet.</p>`;
  const rows = events.map(
    (e) => html`<tr data-event="${e.type}">
<td data-label="When">${when(e.occurredAt)}</td>
<td data-label="Event"><span class="mono small">${e.type}</span></td>
<td data-label="By">${e.actorLabel ?? html`<span class="muted">${e.actorType}</span>`}</td>
<td data-label="About">${e.subjectLabel ?? (e.subjectType ? html`<span class="muted">${e.subjectType}</span>` : '')}</td>
<td data-label="IP"><span class="mono small">${e.ip ?? ''}</span></td></tr>`,
  );
  return html`<table class="cards"><thead><tr><th>When</th><th>Event</th><th>By</th><th>About</th><th>IP</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** How far back the pages show leak reports. */
const LEAK_ALERT_DAYS = 30;

/** The audit query of the leak reports `leakAlerts` shows: a user's (/account) or a plugin's (its token page). */
export function recentLeakReports(about: { userId: string } | { pluginId: string }, now: Date): AuditQuery {
  return { type: 'credential.leak_reported', ...about, since: new Date(now.getTime() - LEAK_ALERT_DAYS * 86_400_000), limit: 20 };
}

/**
 * The leak reports of the last LEAK_ALERT_DAYS (`credential.leak_reported` events), as alerts at
 * the top of /account and of a plugin's token page: what leaked, where it was found (as text:
 * the reporter chose it), who reported it, and whether it was revoked then.
 */
export function leakAlerts(events: AuditEvent[]): SafeHtml | '' {
  if (events.length === 0) return '';
  const what: Record<string, string> = { api_key: 'API key', deploy_token: 'Deploy token', refresh_token: 'A login session (its refresh token)' };
  const items = events.map((e) => {
    const d = e.details ?? {};
    const name = d.kind === 'api_key' ? html` <span class="mono">lk_pat_${e.subjectLabel}…</span>` : d.kind === 'deploy_token' ? html` <strong>${e.subjectLabel}</strong>` : '';
    const where = typeof d.url === 'string' && d.url ? html`, found at <span class="mono small">${d.url}</span>` : '';
    return html`<li data-leak="${e.subjectId ?? ''}">${what[String(d.kind)] ?? 'A credential'}${name} was reported leaked ${when(e.occurredAt)} by ${e.actorLabel ?? 'a report'}${where}: ${d.was_live ? 'it was revoked at once' : 'it no longer worked'}. Replace it where it was used.</li>`;
  });
  return html`<section class="card alert" id="leaks" role="alert"><h2>Leaked credentials</h2><ul>${items}</ul></section>`;
}
