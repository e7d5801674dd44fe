import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** Deploy tokens bound to one plugin (not to their creator). */
export class CreatePluginTokens1763900400000 implements MigrationInterface {
  name = 'CreatePluginTokens1763900400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'plugin_tokens',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'plugin_id', type: T.uuid },
          { name: 'description', type: 'varchar(200)' },
          { name: 'secret_hash', type: 'varchar(64)' },
          { name: 'previous_secret_hash', type: 'varchar(64)', isNullable: true },
          { name: 'previous_valid_until', type: T.timestamp, isNullable: true },
          { name: 'scopes', type: 'text' },
          { name: 'created_by_id', type: T.uuid, isNullable: true },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'rotated_at', type: T.timestamp, isNullable: true },
          { name: 'expires_at', type: T.timestamp, isNullable: true },
          { name: 'last_used_at', type: T.timestamp, isNullable: true },
          { name: 'last_used_ip', type: 'varchar(64)', isNullable: true },
          { name: 'revoked_at', type: T.timestamp, isNullable: true },
        ],
        foreignKeys: [
          { columnNames: ['plugin_id'], referencedTableName: 'plugins', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['created_by_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' },
        ],
        indices: [
          { name: 'UQ_plugin_tokens_secret_hash', columnNames: ['secret_hash'], isUnique: true },
          { name: 'IDX_plugin_tokens_previous_secret_hash', columnNames: ['previous_secret_hash'] },
          { name: 'IDX_plugin_tokens_plugin_id', columnNames: ['plugin_id'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('plugin_tokens');
  }
}
