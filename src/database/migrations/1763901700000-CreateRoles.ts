import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/** Custom roles (src/roles): name → scopes, made by administrators. */
export class CreateRoles1763901700000 implements MigrationInterface {
  name = 'CreateRoles1763901700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'roles',
        columns: [
          { name: 'name', type: 'varchar(64)', isPrimary: true },
          { name: 'description', type: 'varchar(255)', isNullable: true },
          { name: 'scopes', type: 'text' },
          { name: 'created_at', type: T.timestamp, default: T.now },
          { name: 'updated_at', type: T.timestamp, default: T.now },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('roles');
  }
}
