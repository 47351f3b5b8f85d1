import { Command, CommanderError, Option } from 'commander'
import { HeartbeatError, UsageError, ErrorCodes, errorMessage } from './errors.ts'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.ts'

/** Exit statuses: 0 done, 1 failed while running, 2 bad input (flags, env, files). */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** An option with its environment twin, named PREFIX_FLAG_NAME. */
export function envOption (prefix: string, flags: string, description: string): Option {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? ''
  const env = `${prefix}_${long.replace(/-/g, '_').toUpperCase()}`
  return new Option(flags, description).env(env)
}

/** Adds --log-level and --log-format, shared by both programs. */
export function addLogOptions (program: Command, prefix: string): void {
  program.addOption(envOption(prefix, '--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  program.addOption(envOption(prefix, '--log-format <format>', 'json lines, or text for people').choices(LOG_FORMATS).default('json'))
}

export interface LogFlags { logLevel: LogLevel, logFormat: LogFormat }

/** Collects a repeatable option; an env twin may hold several values separated by commas. */
export function collect (value: string, previous: string[] | undefined): string[] {
  const values = value.split(',').map((v) => v.trim()).filter((v) => v !== '')
  return [...(previous ?? []), ...values]
}

/** Makes commander report mistakes as exit 2 with one clear line, never a stack trace. */
export function configureProgram (program: Command): Command {
  program.exitOverride()
  program.configureOutput({ outputError: (text, write) => { write(text) } })
  program.showHelpAfterError('(run with --help for usage)')
  return program
}

/**
 * Runs a CLI main; maps every error to a clear message and an exit status.
 * Only unexpected internal errors print a stack, and only at debug level.
 */
export async function runMain (name: string, main: () => Promise<void>): Promise<void> {
  // `heartbeat-agent --help | head`: a reader that goes away ends the output, as for any command-line tool, not with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(EXIT_OK); else throw err })
  try {
    await main()
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
      return
    }
    if (err instanceof UsageError || (err instanceof HeartbeatError && err.code === ErrorCodes.NO_TARGET)) {
      process.stderr.write(`${name}: ${err.message}\n`)
      process.exitCode = EXIT_USAGE
      return
    }
    process.stderr.write(`${name}: ${errorMessage(err)}\n`)
    if (process.env.HEARTBEAT_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
    process.exitCode = EXIT_FAILURE
  }
}

/** Calls `onSignal` once on the first SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdownSignal (onSignal: (signal: NodeJS.Signals) => void): void {
  let seen = false
  const handler = (signal: NodeJS.Signals): void => {
    if (seen) process.exit(EXIT_FAILURE)
    seen = true
    onSignal(signal)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

export { UsageError }
