// Runs wherever the store runs. Appends to the audit log inside the caller's transaction.
import type { Db } from './database';

export interface AuditEntry {
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

export function appendAudit(db: Db, entry: AuditEntry, at: string): void {
  db.prepare(
    'INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(
    at,
    entry.actor,
    entry.action,
    entry.entity,
    entry.entityId,
    entry.before === undefined ? null : JSON.stringify(entry.before),
    entry.after === undefined ? null : JSON.stringify(entry.after),
  );
}

export function auditCount(db: Db, entity?: string): number {
  const row = entity
    ? (db.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE entity = ?').get(entity) as { n: number })
    : (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number });
  return row.n;
}
