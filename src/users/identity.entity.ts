import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { User } from './user.entity';

/**
 * A user's account at an external OpenID Connect provider: the (issuer, subject) pair the IdP
 * vouches for. The same subject at two providers is two identities (and, unless linked, two users).
 */
@Entity('identities')
@Index('UQ_identities_issuer_subject', ['issuer', 'subject'], { unique: true })
export class Identity {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Index('IDX_identities_user_id')
  @Column({ name: 'user_id', ...COLUMN.uuid })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The configured provider name (`OIDC_PROVIDERS`), as shown in whoami identities. */
  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ type: 'varchar', length: 255 })
  issuer: string;

  @Column({ type: 'varchar', length: 255 })
  subject: string;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @Column({ name: 'last_login_at', ...COLUMN.timestamp, nullable: true })
  lastLoginAt: Date | null;
}
