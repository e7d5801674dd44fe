import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** The database store of plugin files (PLUGIN_STORAGE=database): the files and their chunks. */
export class CreatePluginFiles1763901900000 implements MigrationInterface {
  name = 'CreatePluginFiles1763901900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'plugin_files',
        columns: [
          { name: 'key', type: 'varchar(64)', isPrimary: true },
          { name: 'state', type: 'varchar(16)' },
          { name: 'size', type: 'bigint' },
          { name: 'sha256', type: 'varchar(64)', isNullable: true },
          { name: 'created_at', type: T.timestamp },
          { name: 'discarded_at', type: T.timestamp, isNullable: true },
        ],
        indices: [{ name: 'IDX_plugin_files_state_created_at', columnNames: ['state', 'created_at'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'plugin_file_chunks',
        columns: [
          { name: 'file_key', type: 'varchar(64)', isPrimary: true },
          { name: 'seq', type: 'integer', isPrimary: true },
          { name: 'data', type: T.binary },
        ],
        foreignKeys: [{ columnNames: ['file_key'], referencedTableName: 'plugin_files', referencedColumnNames: ['key'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('plugin_file_chunks');
    await queryRunner.dropTable('plugin_files');
  }
}
