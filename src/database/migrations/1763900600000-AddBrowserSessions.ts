import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/**
 * Browser sessions are sessions too: a keyed hash of the session cookie, and for a login through
 * an IdP the provider, its tokens (sealed, AES-256-GCM) and when its access token expires.
 */
export class AddBrowserSessions1763900600000 implements MigrationInterface {
  name = 'AddBrowserSessions1763900600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('sessions', [
      new TableColumn({ name: 'cookie_hash', type: 'varchar(64)', isNullable: true }),
      new TableColumn({ name: 'idp_provider', type: 'varchar(64)', isNullable: true }),
      new TableColumn({ name: 'idp_tokens', type: 'text', isNullable: true }),
      new TableColumn({ name: 'idp_expires_at', type: T.timestamp, isNullable: true }),
    ]);
    await queryRunner.createIndex('sessions', new TableIndex({ name: 'UQ_sessions_cookie_hash', columnNames: ['cookie_hash'], isUnique: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('sessions', 'UQ_sessions_cookie_hash');
    for (const column of ['idp_expires_at', 'idp_tokens', 'idp_provider', 'cookie_hash']) await queryRunner.dropColumn('sessions', column);
  }
}
