import { type Logger as BoltLogger, LogLevel } from '@slack/web-api';
import type { Log } from '../core/ports.ts';

/** Bolt and the Slack SDK log through our structured logger too, marked as theirs. */
export function boltLoggerFor(log: Log): BoltLogger {
  let level = LogLevel.INFO;
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const at =
    (wanted: LogLevel, write: (message: string) => void) =>
    (...parts: unknown[]) => {
      if (order.indexOf(wanted) >= order.indexOf(level))
        write(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
    };
  return {
    debug: at(LogLevel.DEBUG, (m) => log.debug(m, { source: 'slack-sdk' })),
    info: at(LogLevel.INFO, (m) => log.info(m, { source: 'slack-sdk' })),
    warn: at(LogLevel.WARN, (m) => log.warn(m, { source: 'slack-sdk' })),
    error: at(LogLevel.ERROR, (m) => log.error(m, { source: 'slack-sdk' })),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
