import type { AuditEvent } from '../audit/audit-event.entity';
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
