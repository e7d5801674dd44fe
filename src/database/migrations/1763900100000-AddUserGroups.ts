import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Groups a user belongs to (JSON list), carried in access tokens next to roles. */
export class AddUserGroups1763900100000 implements MigrationInterface {
  name = 'AddUserGroups1763900100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('users', new TableColumn({ name: 'groups', type: 'text', default: "'[]'" }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'groups');
  }
}
