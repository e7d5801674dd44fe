import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** The newest refresh token of IdPs that rotate them, sealed, per offline token a user holds. */
export class CreateOfflineTokenRotations1763901500000 implements MigrationInterface {
  name = 'CreateOfflineTokenRotations1763901500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'offline_token_rotations',
        columns: [
          { name: 'token_hash', type: 'varchar(64)', isPrimary: true },
          { name: 'provider', type: 'varchar(64)' },
          { name: 'sealed_token', type: 'text' },
          { name: 'updated_at', type: T.timestamp },
        ],
        indices: [{ name: 'IDX_offline_token_rotations_updated_at', columnNames: ['updated_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('offline_token_rotations');
  }
}
