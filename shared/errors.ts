/**
 * Every error the product raises on purpose is a HeartbeatError (or a
 * subclass: UsageError, the codec's InvalidFrameError, the ingest's
 * StreamRejected, the rules file's RulesFileError...) with a stable code, so
 * callers (CLI, HTTP handlers, tests) branch on `code`, never on text. The
 * only plain Errors are a validator's internal signals that never leave their
 * module (shared/heartbeat.ts, shared/cbor-guard.ts) and programming mistakes.
 */
export const ErrorCodes = {
  INVALID_DURATION: 'ERR_INVALID_DURATION',
  INVALID_MULTIADDR: 'ERR_INVALID_MULTIADDR',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  INVALID_KEY_FILE: 'ERR_INVALID_KEY_FILE',
  INSECURE_KEY_FILE: 'ERR_INSECURE_KEY_FILE',
  NO_TARGET: 'ERR_NO_TARGET',
  INVALID_HEARTBEAT: 'ERR_INVALID_HEARTBEAT',
  FRAME_TOO_LARGE: 'ERR_FRAME_TOO_LARGE',
  INVALID_FRAME: 'ERR_INVALID_FRAME',
  /** The aggregator refused a heartbeat stream or frame; the error's `reason` says why (counted per reason). */
  STREAM_REJECTED: 'ERR_STREAM_REJECTED',
  /** The aggregator hung up on a peer: it flooded, or a reloaded peer list refuses it. */
  PEER_REFUSED: 'ERR_PEER_REFUSED',
  SOURCE_FAILED: 'ERR_SOURCE_FAILED',
  /** A node (or a checked service) answered with something we cannot use. */
  BAD_ANSWER: 'ERR_BAD_ANSWER',
  /** A JSON-RPC server answered with an error object. */
  RPC_ERROR: 'ERR_RPC_ERROR',
  /** A node, a check or a command did not answer in time. */
  TIMEOUT: 'ERR_TIMEOUT',
  /** A command (source or check) failed to run or exited non-zero. */
  COMMAND_FAILED: 'ERR_COMMAND_FAILED',
  INVALID_CONFIG: 'ERR_INVALID_CONFIG',
  NODE_NOT_FOUND: 'ERR_NODE_NOT_FOUND',
  NOT_CONNECTED: 'ERR_NOT_CONNECTED',
  DIAL_TO_SELF: 'ERR_DIAL_TO_SELF',
  STORE_FAILED: 'ERR_STORE_FAILED',
  STORE_TOO_NEW: 'ERR_STORE_TOO_NEW',
  /** The store is not open yet, or cannot answer now (a database away, a disk refusing): try again later. */
  STORE_UNAVAILABLE: 'ERR_STORE_UNAVAILABLE',
  /** A leader's lease ran out (or another aggregator took it) before what it did could be saved. */
  LEASE_LOST: 'ERR_LEASE_LOST',
  INVALID_ALERT_RULES: 'ERR_INVALID_ALERT_RULES',
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  ADMIN_DISABLED: 'ERR_ADMIN_DISABLED',
  FEED_FULL: 'ERR_FEED_FULL',
  /** A state-changing request from another site (CSRF), refused. */
  FORBIDDEN_ORIGIN: 'ERR_FORBIDDEN_ORIGIN',
  /** Sign-in asked of an aggregator started without --viewer-token-file or --admin-token-file. */
  SIGNIN_DISABLED: 'ERR_SIGNIN_DISABLED',
  /** A listener could not bind its address (in use, not permitted, not on this machine): a start-up mistake, exit 2. */
  BIND_FAILED: 'ERR_BIND',
  /** The data dir is held by another running aggregator (docs/deployment.md, "The data dir lock"): exit 2. */
  DATA_DIR_LOCKED: 'ERR_DATA_DIR_LOCKED',
  /** The data dir cannot be created, read or locked (a file in its place, permissions, a read-only mount): exit 2. */
  DATA_DIR_UNUSABLE: 'ERR_DATA_DIR_UNUSABLE',
  /** This identity (peer id) is already used by another agent connected to the aggregator. */
  IDENTITY_IN_USE: 'ERR_IDENTITY_IN_USE',
} as const

export type ErrorCode = typeof ErrorCodes[keyof typeof ErrorCodes]

export class HeartbeatError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'HeartbeatError'
  }
}

/** A mistake in what the user gave us (flags, config, files): exit 2, no stack. */
export class UsageError extends HeartbeatError {
  constructor (code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'UsageError'
  }
}

export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
