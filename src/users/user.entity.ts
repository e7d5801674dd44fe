import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';

export type UserStatus = 'active' | 'disabled';

/**
 * `user`: a person (password and/or IdP logins). `service`: a Tiled service principal, made by
 * an administrator (`POST /auth/principal?role=…`) for a program: no password, no identity, no
 * login of any kind; it authenticates only with API keys an administrator creates for it.
 */
export type UserKind = 'user' | 'service';

@Entity('users')
export class User {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  /** Lower-case, unique; also the identity id of the password provider. */
  @Column({ type: 'varchar', length: 64, unique: true })
  username: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ name: 'display_name', type: 'varchar', length: 128, nullable: true })
  displayName: string | null;

  /** argon2id PHC string; null for users who only log in through an IdP. Never selected by default. */
  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true, select: false })
  passwordHash: string | null;

  @Column({ type: 'simple-json' })
  roles: string[];

  /** Free-form group names, carried in access tokens so services can decide without a query. */
  @Column({ type: 'simple-json', default: '[]' })
  groups: string[];

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: UserStatus;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  kind: UserKind;

  /** Bumped to revoke every credential the user holds; carried in every access token. */
  @Column({ type: 'integer', default: 0 })
  epoch: number;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', ...COLUMN.timestamp })
  updatedAt: Date;

  @Column({ name: 'last_login_at', ...COLUMN.timestamp, nullable: true })
  lastLoginAt: Date | null;
}
