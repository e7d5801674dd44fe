import type { LogLevel } from '@nestjs/common';
import { LOG_LEVELS, LogLevelName } from './env.validation';

/** LOG_LEVEL=warn → ['fatal', 'error', 'warn'] (Nest wants the list of enabled levels). */
export function logLevels(level: LogLevelName): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1) as LogLevel[];
}
