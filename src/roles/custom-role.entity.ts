import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';

/** A role an administrator made: a name and the scopes it grants (the built-in ones live in code). */
@Entity('roles')
export class CustomRole {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  description: string | null;

  @Column({ type: 'simple-json' })
  scopes: string[];

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', ...COLUMN.timestamp })
  updatedAt: Date;
}
