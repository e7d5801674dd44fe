import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

export class CreateApiKeys1763900200000 implements MigrationInterface {
  name = 'CreateApiKeys1763900200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'user_id', type: T.uuid },
          { name: 'first_eight', type: 'varchar(8)' },
          { name: 'secret_hash', type: 'varchar(64)' },
          { name: 'note', type: 'varchar(1023)', isNullable: true },
          { name: 'scopes', type: 'text' },
          { name: 'access_tags', type: 'text', isNullable: true },
          { name: 'user_epoch', type: 'integer' },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'expires_at', type: T.timestamp, isNullable: true },
          { name: 'last_used_at', type: T.timestamp, isNullable: true },
          { name: 'last_used_ip', type: 'varchar(64)', isNullable: true },
          { name: 'revoked_at', type: T.timestamp, isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [
          { name: 'UQ_api_keys_secret_hash', columnNames: ['secret_hash'], isUnique: true },
          { name: 'UQ_api_keys_user_first_eight', columnNames: ['user_id', 'first_eight'], isUnique: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('api_keys');
  }
}
