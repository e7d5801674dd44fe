import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** Pending device-code logins through an external provider (`tiled login`), approved in a browser. */
export class CreateDeviceLogins1763900700000 implements MigrationInterface {
  name = 'CreateDeviceLogins1763900700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'device_logins',
        columns: [
          { name: 'device_code_hash', type: 'varchar(64)', isPrimary: true },
          { name: 'provider', type: 'varchar(64)' },
          { name: 'user_code', type: 'varchar(8)' },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'expires_at', type: T.timestamp },
          { name: 'session_id', type: T.uuid, isNullable: true },
          { name: 'subject', type: 'varchar(255)', isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['session_id'], referencedTableName: 'sessions', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [
          { name: 'UQ_device_logins_user_code', columnNames: ['user_code'], isUnique: true },
          { name: 'IDX_device_logins_expires_at', columnNames: ['expires_at'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('device_logins');
  }
}
