import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** External identities (an IdP's issuer + subject) linked to users. */
export class CreateIdentities1763900500000 implements MigrationInterface {
  name = 'CreateIdentities1763900500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'identities',
        columns: [
          { name: 'id', type: T.uuid, isPrimary: true },
          { name: 'user_id', type: T.uuid },
          { name: 'provider', type: 'varchar(64)' },
          { name: 'issuer', type: 'varchar(255)' },
          { name: 'subject', type: 'varchar(255)' },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'last_login_at', type: T.timestamp, isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [
          { name: 'UQ_identities_issuer_subject', columnNames: ['issuer', 'subject'], isUnique: true },
          { name: 'IDX_identities_user_id', columnNames: ['user_id'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('identities');
  }
}
