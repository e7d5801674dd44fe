import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity';
import { CustomRole } from './custom-role.entity';
import { RolesController } from './roles.controller';
import { RolesService } from './roles.service';

/** Custom roles (`/admin/roles`). Global and loaded before the app serves: every scope check may read them. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([CustomRole, User])],
  controllers: [RolesController],
  providers: [RolesService],
  exports: [RolesService],
})
export class RolesModule {}
