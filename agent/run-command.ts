import { spawn } from 'node:child_process'
import { ErrorCodes, HeartbeatError } from '../shared/errors.ts'
import { COMMAND_STDERR_TAIL_BYTES, MAX_COMMAND_OUTPUT_BYTES } from './constants.ts'

export interface CommandResult {
  /** Exit status; null when a signal ended it. */
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunCommandOptions {
  signal: AbortSignal
  maxOutputBytes?: number
  env?: NodeJS.ProcessEnv
}

/**
 * Runs a shell command line (`/bin/sh -c`, so pipes and quoting work as
 * people expect) in its own process group, so an abort kills the whole group
 * (a `curl | jq` pipeline, a `sleep` a script started) and nothing is left behind.
 * Resolves with the exit status whatever it is; rejects on abort, on
 * too much output, or when the shell cannot start.
 */
export async function runCommand (command: string, options: RunCommandOptions): Promise<CommandResult> {
  const maxBytes = options.maxOutputBytes ?? MAX_COMMAND_OUTPUT_BYTES
  if (options.signal.aborted) throw new HeartbeatError(ErrorCodes.TIMEOUT, 'command was not started: already past its deadline')
  return await new Promise<CommandResult>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let stdoutBytes = 0
    let stderrBytes = 0
    let failure: HeartbeatError | undefined
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch { /* already gone */ }
    }
    const fail = (err: HeartbeatError): void => {
      failure ??= err
      killGroup()
    }
    const onAbort = (): void => { fail(new HeartbeatError(ErrorCodes.TIMEOUT, 'command did not finish in time (killed)')) }
    options.signal.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length
      if (stdoutBytes > maxBytes) fail(new HeartbeatError(ErrorCodes.BAD_ANSWER, `command printed more than ${maxBytes} bytes (killed)`))
      else stdout.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      // Only the tail of stderr is ever shown; keep a bounded amount.
      stderrBytes += chunk.length
      if (stderrBytes <= maxBytes) stderr.push(chunk)
    })
    child.on('error', (err) => {
      options.signal.removeEventListener('abort', onAbort)
      reject(new HeartbeatError(ErrorCodes.COMMAND_FAILED, `cannot run the command: ${err.message}`))
    })
    child.on('close', (exitCode, signal) => {
      options.signal.removeEventListener('abort', onAbort)
      if (failure !== undefined) { reject(failure); return }
      resolve({ exitCode, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') })
    })
  })
}

/** "exited with status 3: <last line of stderr>" for error messages. */
export function describeExit (result: CommandResult): string {
  const how = result.exitCode !== null ? `exited with status ${result.exitCode}` : `was killed by ${result.signal ?? 'a signal'}`
  const tail = result.stderr.trim().slice(-COMMAND_STDERR_TAIL_BYTES)
  return tail === '' ? how : `${how}: ${tail}`
}
