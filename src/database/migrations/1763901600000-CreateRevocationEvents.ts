import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { INCREMENT_ID, MIGRATION_TYPES as T } from '../column-types';

/** The revocation feed's history (src/revocation-feed). */
export class CreateRevocationEvents1763901600000 implements MigrationInterface {
  name = 'CreateRevocationEvents1763901600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'revocation_events',
        columns: [
          { ...INCREMENT_ID },
          { name: 'created_at', type: T.timestamp },
          { name: 'kind', type: 'varchar(16)' },
          { name: 'subject', type: 'varchar(64)' },
          { name: 'data', type: 'text' },
        ],
        indices: [{ name: 'IDX_revocation_events_created_at', columnNames: ['created_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('revocation_events');
  }
}
