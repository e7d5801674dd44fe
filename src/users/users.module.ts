import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PasswordHasher } from './password-hasher';
import { Identity } from './identity.entity';
import { User } from './user.entity';
import { UserStateCache } from './user-state.cache';
import { IdentitiesController } from './identities.controller';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { DeclareScopes } from '../common/auth/scope-catalog';

@DeclareScopes({
  'read:account': 'Read your own account: profile, sessions, API keys, identities, audit',
  'write:account': 'Change your own account: revoke a session, unlink an identity',
})
@Module({
  imports: [TypeOrmModule.forFeature([User, Identity])],
  controllers: [UsersController, IdentitiesController],
  providers: [UsersService, PasswordHasher, UserStateCache],
  exports: [UsersService],
})
export class UsersModule {}
