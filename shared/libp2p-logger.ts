import type { ComponentLogger, Logger } from '@libp2p/interface'

/**
 * A libp2p component logger that logs nothing and costs nothing. libp2p's
 * default (@libp2p/logger on weald, the `debug` module's heir) builds a
 * logger for every connection, handshake, muxer and stream it creates, and
 * each one asks whether stderr is a terminal (an isatty system call), even
 * when no DEBUG namespace is enabled: about 3% of a restarted aggregator's
 * CPU while thousands of agents reconnect. Used unless DEBUG is set, which is
 * how libp2p's own debug logs are asked for (`DEBUG=libp2p:*`).
 */
export function silentLogger (): Logger {
  const noop = (): void => {}
  const log = Object.assign(noop.bind(null), { enabled: false, error: noop, trace: noop, newScope: (): Logger => log }) as unknown as Logger
  return log
}

const SILENT = silentLogger()
export const SILENT_COMPONENT_LOGGER: ComponentLogger = { forComponent: () => SILENT }

/** libp2p's `logger` option: silent unless DEBUG asks for libp2p's debug logs (then libp2p's default). */
export function libp2pLogger (env: NodeJS.ProcessEnv = process.env): { logger?: ComponentLogger } {
  return env.DEBUG !== undefined && env.DEBUG !== '' ? {} : { logger: SILENT_COMPONENT_LOGGER }
}
