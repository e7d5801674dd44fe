import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { Plugin } from '../plugins/plugin.entity';
import { User } from '../users/user.entity';

/**
 * A CI workflow allowed to publish a plugin without a stored secret: its OIDC ID token, from
 * `issuer`, for `repository` and `workflow` (and `environment` and a `ref` pattern when set), is
 * exchanged for a short-lived deploy token of the plugin (TrustedPublishingService.exchange).
 */
@Entity('trusted_publishers')
export class TrustedPublisher {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Index('IDX_trusted_publishers_plugin_id')
  @Column({ name: 'plugin_id', ...COLUMN.uuid })
  pluginId: string;

  @ManyToOne(() => Plugin, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_id' })
  plugin?: Plugin;

  /** The configured issuer's name (TRUSTED_PUBLISHING_ISSUERS): `github`, `gitlab`, … */
  @Column({ type: 'varchar', length: 64 })
  issuer: string;

  /** `owner/repo` (GitHub) or `group/subgroup/project` (GitLab), lower-case (both compare without case). */
  @Column({ type: 'varchar', length: 255 })
  repository: string;

  /** The workflow file (GitHub: `release.yml` in .github/workflows) or CI config path (GitLab: `.gitlab-ci.yml`). */
  @Column({ type: 'varchar', length: 255 })
  workflow: string;

  /** The deployment environment the job must run in; null: any. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  environment: string | null;

  /** A pattern the job's full ref must match (`refs/tags/v*`, `*` = any run of characters); null: any. */
  @Column({ name: 'ref_pattern', type: 'varchar', length: 255, nullable: true })
  refPattern: string | null;

  /**
   * The repository's immutable id (`repository_id` / `project_id`), pinned at the first exchange:
   * a repository deleted and re-created under the same name by someone else is refused.
   */
  @Column({ name: 'repository_id', type: 'varchar', length: 64, nullable: true })
  repositoryId: string | null;

  @Column({ name: 'created_by_id', ...COLUMN.uuid, nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User | null;

  @Column({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @Column({ name: 'last_used_at', ...COLUMN.timestamp, nullable: true })
  lastUsedAt: Date | null;
}
