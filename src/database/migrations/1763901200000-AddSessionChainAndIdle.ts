import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { MIGRATION_TYPES as T } from '../column-types';

/**
 * One live chain per session: a consumed refresh token keeps its successor, sealed, for the
 * reuse grace (a racing tab gets the same successor, not a new branch). Browser sessions get
 * an idle timeout: when the session cookie was last seen.
 */
export class AddSessionChainAndIdle1763901200000 implements MigrationInterface {
  name = 'AddSessionChainAndIdle1763901200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('refresh_tokens', new TableColumn({ name: 'successor', type: 'text', isNullable: true }));
    await queryRunner.addColumn('sessions', new TableColumn({ name: 'last_seen_at', type: T.timestamp, isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sessions', 'last_seen_at');
    await queryRunner.dropColumn('refresh_tokens', 'successor');
  }
}
