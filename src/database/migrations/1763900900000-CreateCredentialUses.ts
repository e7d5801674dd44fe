import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { INCREMENT_ID, MIGRATION_TYPES as T } from '../column-types';

/** The per-credential usage log: the last USAGE_LOG_SIZE uses of each API key and deploy token. */
export class CreateCredentialUses1763900900000 implements MigrationInterface {
  name = 'CreateCredentialUses1763900900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'credential_uses',
        columns: [
          { ...INCREMENT_ID },
          { name: 'api_key_id', type: T.uuid, isNullable: true },
          { name: 'plugin_token_id', type: T.uuid, isNullable: true },
          { name: 'used_at', type: T.timestamp },
          { name: 'method', type: 'varchar(16)' },
          { name: 'route', type: 'varchar(255)', isNullable: true },
          { name: 'ip', type: 'varchar(64)', isNullable: true },
          { name: 'status', type: 'integer' },
        ],
        checks: [{ name: 'CHK_credential_uses_one_credential', expression: '("api_key_id" IS NULL) <> ("plugin_token_id" IS NULL)' }],
        foreignKeys: [
          { columnNames: ['api_key_id'], referencedTableName: 'api_keys', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['plugin_token_id'], referencedTableName: 'plugin_tokens', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
        indices: [
          { name: 'IDX_credential_uses_api_key', columnNames: ['api_key_id', 'used_at'] },
          { name: 'IDX_credential_uses_plugin_token', columnNames: ['plugin_token_id', 'used_at'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('credential_uses');
  }
}
