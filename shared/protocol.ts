/** Protocol ids and wire limits shared by the agent and the aggregator. */

/** The heartbeat protocol: one long-lived stream, length-prefixed CBOR frames, agent writes, aggregator reads (and may write one refusal: shared/refusal.ts). */
export const HEARTBEAT_PROTOCOL = '/fil/heartbeat/2.0.0'

/** go-filecoin's protocol id, exactly as it sent it (no leading slash): newline-delimited JSON. */
export const LEGACY_HEARTBEAT_PROTOCOL = 'fil/heartbeat/1.0.0'

/** Wire format version carried in every heartbeat (`v`). */
export const HEARTBEAT_VERSION = 2

/** Largest frame the aggregator accepts by default; larger frames reset the stream. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024

/** String and structure limits for a heartbeat (a frame that exceeds them is rejected). */
export const LIMITS = {
  nickname: 128,
  head: 8192,
  minerAddress: 256,
  network: 256,
  componentCount: 64,
  componentName: 64,
  /** Bytes of one component's details, as JSON. */
  detailsBytes: 4096,
  agentVersion: 64,
  maintenanceReason: 200,
  /** The optional `source` field: a short kind such as "lotus" (later kinds must fit too). */
  source: 32,
} as const

/** What an agent may say in the optional `source` field (aggregators keep any short string they do not know). */
export const HEARTBEAT_SOURCE_KINDS = ['demo', 'lotus', 'eth', 'command', 'embedded'] as const
export type HeartbeatSourceKind = typeof HEARTBEAT_SOURCE_KINDS[number]

/** Largest value a heartbeat's unsigned integers may carry (safe in JS and JSON). */
export const MAX_UINT = Number.MAX_SAFE_INTEGER
