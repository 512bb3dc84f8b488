// Structured JSON logs (winston). Context (node, range, term) goes in child loggers' metadata;
// never log user values or secrets.
import winston from 'winston';

export type Logger = winston.Logger;

// Fills in base fields without overriding a child logger's own (winston's defaultMeta would win over
// `logger.child({ component: 'store' })`).
const baseFields = winston.format((info, base) => {
  for (const [k, v] of Object.entries(base as Record<string, unknown>)) if (v !== undefined && info[k] === undefined) info[k] = v;
  return info;
});

export function createLogger(opts: { level?: string; component?: string; nodeId?: string; silent?: boolean } = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? process.env.KVS_LOG_LEVEL ?? 'info',
    silent: opts.silent ?? false,
    format: winston.format.combine(
      baseFields({ component: opts.component, node: opts.nodeId }),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly'] })],
  });
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
