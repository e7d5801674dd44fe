import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/**
 * Who is exchanging an offline token at the IdP right now (PostgreSQL, several instances): a
 * lease row with an expiry, in place of an advisory lock that held a pooled connection for the
 * whole IdP call.
 */
export class CreateOfflineTokenLeases1763901550000 implements MigrationInterface {
  name = 'CreateOfflineTokenLeases1763901550000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'offline_token_leases',
        columns: [
          { name: 'token_hash', type: 'varchar(64)', isPrimary: true },
          { name: 'holder', type: 'varchar(64)' },
          { name: 'expires_at', type: T.timestamp },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('offline_token_leases');
  }
}
