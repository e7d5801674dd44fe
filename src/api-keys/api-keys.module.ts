import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { ApiKey } from './api-key.entity';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import { TiledApiKeyController } from './tiled-api-key.controller';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), UsersModule],
  controllers: [TiledApiKeyController, ApiKeysController],
  providers: [ApiKeysService, ApiKeyUsageRecorder, ApiKeyStrategy],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
