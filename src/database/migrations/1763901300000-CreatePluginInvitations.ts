import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** Pending invitations to maintain a plugin (a maintainer invites, the invitee accepts). */
export class CreatePluginInvitations1763901300000 implements MigrationInterface {
  name = 'CreatePluginInvitations1763901300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'plugin_invitations',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'plugin_id', type: T.uuid },
          { name: 'username', type: 'varchar(64)' },
          { name: 'invitee_id', type: T.uuid, isNullable: true },
          { name: 'invited_by_id', type: T.uuid, isNullable: true },
          { name: 'created_at', type: T.timestamp },
          { name: 'expires_at', type: T.timestamp },
        ],
        foreignKeys: [
          { columnNames: ['plugin_id'], referencedTableName: 'plugins', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['invitee_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['invited_by_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' },
        ],
        indices: [
          { name: 'UQ_plugin_invitations_plugin_username', columnNames: ['plugin_id', 'username'], isUnique: true },
          { name: 'IDX_plugin_invitations_invitee_id', columnNames: ['invitee_id'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('plugin_invitations');
  }
}
