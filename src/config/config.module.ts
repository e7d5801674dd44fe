import { Global, Module } from '@nestjs/common';
import { appConfigProvider, APP_CONFIG } from './app.config';

/** Global: every module can inject the typed config with `@InjectConfig()`. */
@Global()
@Module({
  providers: [appConfigProvider],
  exports: [APP_CONFIG],
})
export class AppConfigModule {}
