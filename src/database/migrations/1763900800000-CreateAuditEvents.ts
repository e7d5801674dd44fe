import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { INCREMENT_ID, MIGRATION_TYPES as T } from '../column-types';

/** The append-only audit log of security events. */
export class CreateAuditEvents1763900800000 implements MigrationInterface {
  name = 'CreateAuditEvents1763900800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { ...INCREMENT_ID },
          { name: 'occurred_at', type: T.timestamp },
          { name: 'type', type: 'varchar(64)' },
          { name: 'actor_type', type: 'varchar(16)' },
          { name: 'actor_id', type: 'varchar(64)', isNullable: true },
          { name: 'actor_label', type: 'varchar(255)', isNullable: true },
          { name: 'subject_type', type: 'varchar(32)', isNullable: true },
          { name: 'subject_id', type: 'varchar(64)', isNullable: true },
          { name: 'subject_label', type: 'varchar(255)', isNullable: true },
          { name: 'user_id', type: 'varchar(36)', isNullable: true },
          { name: 'plugin_id', type: 'varchar(36)', isNullable: true },
          { name: 'ip', type: 'varchar(64)', isNullable: true },
          { name: 'user_agent', type: 'varchar(255)', isNullable: true },
          { name: 'request_id', type: 'varchar(64)', isNullable: true },
          { name: 'details', type: 'text', isNullable: true },
        ],
        indices: [
          { name: 'IDX_audit_events_occurred_at', columnNames: ['occurred_at'] },
          { name: 'IDX_audit_events_type', columnNames: ['type'] },
          { name: 'IDX_audit_events_actor_id', columnNames: ['actor_id'] },
          { name: 'IDX_audit_events_subject_id', columnNames: ['subject_id'] },
          { name: 'IDX_audit_events_user_id', columnNames: ['user_id'] },
          { name: 'IDX_audit_events_plugin_id', columnNames: ['plugin_id'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_events');
  }
}
