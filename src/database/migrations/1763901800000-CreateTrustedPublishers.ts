import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** Trusted publishing (src/trusted-publishing): the publishers, the CI tokens already used, and which publisher got a deploy token. */
export class CreateTrustedPublishers1763901800000 implements MigrationInterface {
  name = 'CreateTrustedPublishers1763901800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'trusted_publishers',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'plugin_id', type: T.uuid },
          { name: 'issuer', type: 'varchar(64)' },
          { name: 'repository', type: 'varchar(255)' },
          { name: 'workflow', type: 'varchar(255)' },
          { name: 'environment', type: 'varchar(255)', isNullable: true },
          { name: 'ref_pattern', type: 'varchar(255)', isNullable: true },
          { name: 'repository_id', type: 'varchar(64)', isNullable: true },
          { name: 'created_by_id', type: T.uuid, isNullable: true },
          { name: 'created_at', type: T.timestamp },
          { name: 'last_used_at', type: T.timestamp, isNullable: true },
        ],
        foreignKeys: [
          { columnNames: ['plugin_id'], referencedTableName: 'plugins', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['created_by_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' },
        ],
        indices: [{ name: 'IDX_trusted_publishers_plugin_id', columnNames: ['plugin_id'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'used_ci_tokens',
        columns: [
          { name: 'issuer', type: 'varchar(64)', isPrimary: true },
          { name: 'jti', type: 'varchar(255)', isPrimary: true },
          { name: 'expires_at', type: T.timestamp },
        ],
        indices: [{ name: 'IDX_used_ci_tokens_expires_at', columnNames: ['expires_at'] }],
      }),
    );
    // No foreign key: the id stays on the token (its attribution) after the publisher is removed.
    await queryRunner.addColumn('plugin_tokens', new TableColumn({ name: 'trusted_publisher_id', type: T.uuid, isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('plugin_tokens', 'trusted_publisher_id');
    await queryRunner.dropTable('used_ci_tokens');
    await queryRunner.dropTable('trusted_publishers');
  }
}
