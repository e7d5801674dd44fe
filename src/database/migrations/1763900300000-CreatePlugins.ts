import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** Plugins, their maintainers and their uploaded versions. */
export class CreatePlugins1763900300000 implements MigrationInterface {
  name = 'CreatePlugins1763900300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'plugins',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'name', type: 'varchar(100)', isUnique: true },
          { name: 'display_name', type: 'varchar(200)' },
          { name: 'created_by_id', type: T.uuid, isNullable: true },
          { name: 'created_at', type: T.timestamp, default: T.now },
        ],
        foreignKeys: [{ columnNames: ['created_by_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'plugin_maintainers',
        columns: [
          { name: 'plugin_id', type: T.uuid, isPrimary: true },
          { name: 'user_id', type: T.uuid, isPrimary: true },
          { name: 'added_at', type: T.timestamp, default: T.now },
        ],
        foreignKeys: [
          { columnNames: ['plugin_id'], referencedTableName: 'plugins', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
        indices: [{ name: 'IDX_plugin_maintainers_user_id', columnNames: ['user_id'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'plugin_versions',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'plugin_id', type: T.uuid },
          { name: 'version', type: 'varchar(64)' },
          { name: 'filename', type: 'varchar(255)' },
          { name: 'size', type: 'bigint' },
          { name: 'sha256', type: 'varchar(64)' },
          { name: 'storage_key', type: 'varchar(255)' },
          { name: 'notes', type: 'text', isNullable: true },
          { name: 'uploaded_by', type: 'varchar(255)' },
          { name: 'uploaded_by_user_id', type: T.uuid, isNullable: true },
          { name: 'uploaded_by_token_id', type: T.uuid, isNullable: true },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'updated_at', type: T.timestamp, default: T.now },
        ],
        foreignKeys: [
          { columnNames: ['plugin_id'], referencedTableName: 'plugins', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['uploaded_by_user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' },
        ],
        indices: [{ name: 'UQ_plugin_versions_plugin_version', columnNames: ['plugin_id', 'version'], isUnique: true }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('plugin_versions');
    await queryRunner.dropTable('plugin_maintainers');
    await queryRunner.dropTable('plugins');
  }
}
