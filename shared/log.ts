import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]
export const LOG_FORMATS = ['json', 'text'] as const
export type LogFormat = typeof LOG_FORMATS[number]

/**
 * Fields that may hold a secret (a node's API token, an Authorization header,
 * the admin token) are censored wherever they appear in a log object, up to
 * three levels down: a secret must never reach a log line by accident.
 */
export const REDACTED_FIELDS = ['token', 'apiToken', 'adminToken', 'authorization', 'password', 'secret'] as const
const REDACT_PATHS = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`])
export const REDACTED = '[redacted]'

export const DEFAULT_LOG_LEVEL: LogLevel = 'info'
export const DEFAULT_LOG_FORMAT: LogFormat = 'json'

export interface LoggerOptions {
  name: string
  level?: LogLevel
  format?: LogFormat
  destination?: DestinationStream
}

/**
 * JSON lines (one object per line, `level` as a word) for machines, or a terse
 * text line for people. Logs go to stderr: stdout stays free for what a
 * command prints on purpose.
 */
export function createLogger (options: LoggerOptions): Logger {
  const format = options.format ?? DEFAULT_LOG_FORMAT
  const destination = options.destination ?? (format === 'text' ? textDestination(process.stderr) : pino.destination({ fd: 2, sync: true }))
  return pino({
    name: options.name,
    level: options.level ?? DEFAULT_LOG_LEVEL,
    base: { name: options.name },
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination)
}

/** Rewrites pino's JSON lines as `time LEVEL name: msg key=value ...`. */
function textDestination (out: NodeJS.WritableStream): DestinationStream {
  return {
    write (line: string) {
      try {
        const { time, level, name, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>
        const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
        out.write(`${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(name)}: ${String(msg ?? '')}${extra ? ' ' + extra : ''}\n`)
      } catch {
        out.write(line)
      }
    },
  }
}
