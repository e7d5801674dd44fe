import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app.config';
import { createRootLogger, LOG_SINK, ROOT_LOGGER, stdoutSink, type LogSink } from './logger';
import { PinoLoggerService } from './pino-logger.service';

/**
 * The app's pino logger (LOG_LEVEL, LOG_FORMAT) and the Nest `LoggerService` on top of it.
 * `configureApp` installs both: the request-line middleware and `app.useLogger`. Tests replace
 * LOG_SINK to capture the lines.
 */
@Global()
@Module({
  providers: [
    { provide: LOG_SINK, useFactory: (): LogSink => stdoutSink() },
    {
      provide: ROOT_LOGGER,
      inject: [APP_CONFIG, LOG_SINK],
      useFactory: (config: AppConfig, sink: LogSink) => createRootLogger(config, sink),
    },
    PinoLoggerService,
  ],
  exports: [ROOT_LOGGER, PinoLoggerService],
})
export class LoggingModule {}
