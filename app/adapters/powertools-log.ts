import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../core/ports.ts';

/** The core's Log port on Powertools' structured JSON logger. */
export function powertoolsLog(logger = new Logger({ serviceName: 'greenlight' })): Log & { logger: Logger } {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, context?: Record<string, unknown>) =>
    logger[level](message, redact(context));
  return { logger, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function redact(context: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [key, redactError(value)]));
}

/**
 * AWS service errors quote the values they refused — an approval token among them — so their
 * messages never reach a log line: we keep the name and the request id, which is what support asks
 * for. Our own errors keep their message (it names no secrets), with their causes redacted too.
 */
export function redactError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  if ('$metadata' in value) {
    const metadata = (value as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata;
    return { name: value.name, requestId: metadata?.requestId, httpStatusCode: metadata?.httpStatusCode };
  }
  const copy = new Error(value.message, value.cause === undefined ? undefined : { cause: redactError(value.cause) });
  copy.name = value.name;
  if (value.stack) copy.stack = value.stack;
  return copy;
}
