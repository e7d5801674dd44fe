import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/**
 * What a revoke-all needs to end IdP offline tokens for good: the tokens Latchkey accepted (keyed
 * hash, user, the user's epoch then) and, per user, the time of the last revoke-all.
 */
export class CreateOfflineTokenGrants1763901400000 implements MigrationInterface {
  name = 'CreateOfflineTokenGrants1763901400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'offline_token_grants',
        columns: [
          { name: 'token_hash', type: 'varchar(64)', isPrimary: true },
          { name: 'user_id', type: T.uuid },
          { name: 'provider', type: 'varchar(64)' },
          { name: 'user_epoch', type: 'integer' },
          { name: 'created_at', type: T.timestamp, default: T.now },
        ],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [{ name: 'IDX_offline_token_grants_user_id', columnNames: ['user_id'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'offline_token_floors',
        columns: [
          { name: 'user_id', type: T.uuid, isPrimary: true },
          { name: 'not_before', type: T.timestamp },
        ],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('offline_token_floors');
    await queryRunner.dropTable('offline_token_grants');
  }
}
