import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app.config';
import { createRequestLineLogger, createRootLogger, LOG_SINK, REQUEST_LINE_LOGGER, ROOT_LOGGER, stdoutSink, type LogSink } from './logger';
import { PinoLoggerService } from './pino-logger.service';

/**
 * The app's pino logger (LOG_LEVEL, LOG_FORMAT), the Nest `LoggerService` on top of it, and the
 * logger of the request lines. `configureApp` installs them: `app.useLogger` and the request
 * line. Tests replace LOG_SINK to capture the lines.
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
    {
      provide: REQUEST_LINE_LOGGER,
      inject: [APP_CONFIG, LOG_SINK],
      useFactory: (config: AppConfig, sink: LogSink) => createRequestLineLogger(config, sink),
    },
    PinoLoggerService,
  ],
  exports: [ROOT_LOGGER, REQUEST_LINE_LOGGER, PinoLoggerService],
})
export class LoggingModule {}
