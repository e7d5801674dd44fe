import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

export class CreateUsersAndSessions1763900000000 implements MigrationInterface {
  name = 'CreateUsersAndSessions1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'username', type: 'varchar(64)', isUnique: true },
          { name: 'email', type: 'varchar(254)', isNullable: true },
          { name: 'display_name', type: 'varchar(128)', isNullable: true },
          { name: 'password_hash', type: 'varchar(255)', isNullable: true },
          { name: 'roles', type: 'text' },
          { name: 'status', type: 'varchar(16)', default: "'active'" },
          { name: 'epoch', type: 'integer', default: 0 },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'updated_at', type: T.timestamp, default: T.now },
          { name: 'last_login_at', type: T.timestamp, isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'user_id', type: T.uuid },
          { name: 'auth_method', type: 'varchar(32)' },
          { name: 'user_epoch', type: 'integer' },
          { name: 'user_agent', type: 'varchar(255)', isNullable: true },
          { name: 'ip', type: 'varchar(64)', isNullable: true },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'expires_at', type: T.timestamp },
          { name: 'last_refreshed_at', type: T.timestamp, isNullable: true },
          { name: 'refresh_count', type: 'integer', default: 0 },
          { name: 'revoked_at', type: T.timestamp, isNullable: true },
          { name: 'revoked_reason', type: 'varchar(32)', isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [{ name: 'IDX_sessions_user_id', columnNames: ['user_id'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'session_id', type: T.uuid },
          { name: 'token_hash', type: 'varchar(64)' },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'expires_at', type: T.timestamp },
          { name: 'used_at', type: T.timestamp, isNullable: true },
        ],
        foreignKeys: [
          { columnNames: ['session_id'], referencedTableName: 'sessions', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'refresh_tokens',
      new TableIndex({ name: 'UQ_refresh_tokens_token_hash', columnNames: ['token_hash'], isUnique: true }),
    );
    await queryRunner.createIndex('refresh_tokens', new TableIndex({ name: 'IDX_refresh_tokens_session_id', columnNames: ['session_id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('refresh_tokens');
    await queryRunner.dropTable('sessions');
    await queryRunner.dropTable('users');
  }
}
