import { readFileSync } from 'node:fs'
import { ErrorCodes, UsageError, errorMessage } from '../../shared/errors.ts'
import type { SourceSettings } from '../config.ts'
import type { ChainSource } from '../source.ts'

/** Reads an API token file (as `lotus auth create-token` prints it); surrounding whitespace is not part of it. */
export function readTokenFile (path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `cannot read the source token file ${path}: ${errorMessage(err)}`)
  }
  const token = text.trim()
  if (token === '') throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `the source token file ${path} is empty`)
  return token
}

/**
 * The chain source the settings describe; bad settings are UsageErrors naming
 * the flag. Only the chosen kind is loaded: an agent holds one source's code.
 */
export async function createSource (settings: SourceSettings): Promise<ChainSource> {
  const token = settings.tokenFile !== undefined ? readTokenFile(settings.tokenFile) : settings.token
  const auth = token !== undefined ? { token } : {}
  const url = settings.url !== undefined ? { url: settings.url } : {}
  switch (settings.kind) {
    case 'demo': {
      const { DemoChainSource } = await import('./demo.ts')
      return new DemoChainSource({ blockTimeMs: settings.demoBlockTimeMs })
    }
    case 'lotus': {
      const { LotusSource } = await import('./lotus.ts')
      return new LotusSource({ ...url, ...auth })
    }
    case 'eth': {
      const { EthSource } = await import('./eth.ts')
      return new EthSource({ ...url, ...auth })
    }
    case 'command': {
      if (settings.command === undefined || settings.command.trim() === '') {
        throw new UsageError(ErrorCodes.INVALID_ARGUMENT, '--source command needs --source-command "COMMAND" (or source.command in the config file)')
      }
      const { CommandSource } = await import('./command.ts')
      return new CommandSource({ command: settings.command })
    }
  }
}
