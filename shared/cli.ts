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
 * Errors that mean the program was started wrong and a restart cannot help:
 * exit 2 (systemd's RestartPreventExitStatus, docs/deployment.md). Usage
 * mistakes (UsageError) are always among them.
 */
const START_UP_MISTAKES: ReadonlySet<string> = new Set([
  ErrorCodes.NO_TARGET, ErrorCodes.BIND_FAILED, ErrorCodes.DATA_DIR_LOCKED, ErrorCodes.DATA_DIR_UNUSABLE, ErrorCodes.STORE_TOO_NEW,
])

/** The exit status for an error that ended a main: 2 for a start-up mistake, 1 otherwise. */
export function exitStatusOf (err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE
  if (err instanceof HeartbeatError && START_UP_MISTAKES.has(err.code)) return EXIT_USAGE
  return EXIT_FAILURE
}

/**
 * A failed main exits within this even when something it started still holds
 * the event loop (libp2p leaves a 1 s debounce timer behind its stop): a start-up failure must
 * reach the supervisor (fail fast), not leave a process that does nothing.
 */
export const FAILED_MAIN_EXIT_DEADLINE_MS = 250

/**
 * Runs a CLI main; maps every error to one line on stderr and an exit status
 * (exitStatusOf). A stack is printed only with HEARTBEAT_DEBUG=1.
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
    process.exitCode = exitStatusOf(err)
    process.stderr.write(`${name}: ${oneLine(errorMessage(err))}\n`)
    if (process.env.HEARTBEAT_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
    setTimeout(() => { process.exit() }, FAILED_MAIN_EXIT_DEADLINE_MS).unref()
  }
}

/** A message as one line: a library's multi-line text (and any stack frames in it) folded. */
export function oneLine (message: string): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^at .+/.test(l)).join(' ')
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
