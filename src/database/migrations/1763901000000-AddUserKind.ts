import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Service principals (Tiled's `type: "service"`): users of kind `service`, who cannot log in. */
export class AddUserKind1763901000000 implements MigrationInterface {
  name = 'AddUserKind1763901000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('users', new TableColumn({ name: 'kind', type: 'varchar(16)', default: "'user'" }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'kind');
  }
}
