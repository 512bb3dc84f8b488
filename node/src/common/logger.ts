// Structured JSON logs (winston). Context (node, range, term) goes in child loggers' metadata;
// never log user values or secrets.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(opts: { level?: string; component?: string; nodeId?: string; silent?: boolean } = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? process.env.KVS_LOG_LEVEL ?? 'info',
    silent: opts.silent ?? false,
    defaultMeta: { component: opts.component, node: opts.nodeId },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly'] })],
  });
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
