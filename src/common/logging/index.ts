export { createRequestLineLogger, createRootLogger, LOG_SINK, REQUEST_LINE_LOGGER, PINO_LEVEL, prettySink, ROOT_LOGGER, stdoutSink, type LogSink } from './logger';
export { LoggingModule } from './logging.module';
export { PinoLoggerService } from './pino-logger.service';
export { isSecretKey, redact, REDACTED, scrub } from './redact';
export { requestLogger } from './request-logger';
