import { ErrorCodes } from '../../shared/errors.ts'
import { describeExit, runCommand } from '../run-command.ts'
import { CheckFailure, type Probe } from './types.ts'

/** The last line of output shown in the details, at most this long. */
const MAX_SHOWN_OUTPUT_CHARS = 200

/** Runs a shell command line; exit status 0 is ready. The deadline kills it. */
export function commandProbe (command: string): Probe {
  return async (signal) => {
    const result = await runCommand(command, { signal })
    if (result.exitCode !== 0) {
      throw new CheckFailure(ErrorCodes.COMMAND_FAILED, `command ${describeExit(result)}`, { exitCode: result.exitCode })
    }
    const lastLine = result.stdout.trim().split('\n').pop() ?? ''
    const details: Record<string, unknown> = { exitCode: 0 }
    if (lastLine !== '') details.output = lastLine.slice(0, MAX_SHOWN_OUTPUT_CHARS)
    return { status: 'ready', details }
  }
}
