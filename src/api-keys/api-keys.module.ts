import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { ApiKey } from './api-key.entity';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import { TiledApiKeyController } from './tiled-api-key.controller';
import { DeclareScopes } from '../common/auth/scope-catalog';

@DeclareScopes({
  'create:apikeys': 'Create API keys for yourself',
  'revoke:apikeys': 'Revoke your API keys',
  'admin:apikeys': 'Create and revoke API keys for any principal (administrators)',
})
@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), UsersModule],
  controllers: [TiledApiKeyController, ApiKeysController],
  providers: [ApiKeysService, ApiKeyUsageRecorder, ApiKeyStrategy],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
