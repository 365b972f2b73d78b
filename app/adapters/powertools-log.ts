import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../core/ports.ts';

/** The core's Log port on Powertools' structured JSON logger. */
export function powertoolsLog(logger = new Logger({ serviceName: 'greenlight' })): Log & { logger: Logger } {
  return {
    logger,
    debug: (message, context) => logger.debug(message, { ...context }),
    info: (message, context) => logger.info(message, { ...context }),
    warn: (message, context) => logger.warn(message, { ...context }),
    error: (message, context) => logger.error(message, { ...context }),
  };
}
