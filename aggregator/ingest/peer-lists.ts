import { readFile } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'
import type { PenaltyBox } from './rate-limit.ts'

/**
 * The pure side of peer admission (peer-admission.ts is its shell): who may
 * connect. The allowlist and denylist hold peer ids, which the Noise
 * handshake proves, so the gater decides right after the handshake, before
 * any stream exists. Everything here is pure except `loadPeerList`, which
 * reads a list file.
 */

/** Why a connection was refused; counted per reason. */
export const REFUSAL_REASONS = [
  'denied', 'not_allowed', 'penalized', 'too_many_connections_per_ip', 'too_many_connections_per_peer', 'handshakes_busy',
] as const
export type RefusalReason = typeof REFUSAL_REASONS[number]

/** A peer list as given on the command line: peer ids inline, or a file of them. */
export type PeerListSpec =
  | { kind: 'inline', ids: ReadonlySet<string> }
  | { kind: 'file', path: string }

function isPeerId (text: string): boolean {
  try {
    peerIdFromString(text)
    return true
  } catch {
    return false
  }
}

/**
 * Reads a flag value: a comma-separated list of peer ids, or (when the value
 * is not a peer id) the path of a file that holds them.
 */
export function parsePeerListSpec (text: string, flag: string): PeerListSpec {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (items.length === 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${flag} is empty: give a file path or peer ids separated by commas`)
  const bad = items.filter((item) => !isPeerId(item))
  if (bad.length === 0) return { kind: 'inline', ids: new Set(items) }
  if (items.length === 1) return { kind: 'file', path: items[0] as string }
  throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${flag}: "${bad[0] ?? ''}" is not a peer id (expected peer ids separated by commas, or one file path)`)
}

/**
 * Parses a peer list file: one peer id per line (commas also separate),
 * `#` starts a comment, blank lines are ignored. A bad id names its line.
 */
export function parsePeerListText (text: string, origin: string): Set<string> {
  const ids = new Set<string>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/#.*$/, '')
    for (const item of line.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      if (!isPeerId(item)) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${origin} line ${i + 1}: "${item.slice(0, 80)}" is not a peer id`)
      ids.add(item)
    }
  }
  return ids
}

/** Resolves a spec to its peer ids (reads the file each time: that is what a reload is). */
export async function loadPeerList (spec: PeerListSpec, flag: string): Promise<Set<string>> {
  if (spec.kind === 'inline') return new Set(spec.ids)
  let text: string
  try {
    text = await readFile(spec.path, 'utf8')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${flag}: cannot read ${spec.path}: ${(err as Error).message}`)
  }
  return parsePeerListText(text, `${flag} file ${spec.path}`)
}

export interface PeerLists {
  /** When set, only these peers may connect. */
  allow?: ReadonlySet<string>
  /** Never these peers (wins over the allowlist). */
  deny?: ReadonlySet<string>
}

/** The peer-id policy: denylist, then allowlist, then the penalty box. */
export class PeerPolicy {
  private lists: PeerLists
  private readonly penalties: PenaltyBox

  constructor (lists: PeerLists, penalties: PenaltyBox) {
    this.lists = lists
    this.penalties = penalties
  }

  /** Replaces both lists at once (a reload). */
  setLists (lists: PeerLists): void {
    this.lists = lists
  }

  get allowlistSize (): number | undefined {
    return this.lists.allow?.size
  }

  get denylistSize (): number {
    return this.lists.deny?.size ?? 0
  }

  /** Undefined when `peerId` may connect at `now`, else why not. */
  check (peerId: string, now: number): RefusalReason | undefined {
    if (this.lists.deny?.has(peerId) === true) return 'denied'
    if (this.lists.allow !== undefined && !this.lists.allow.has(peerId)) return 'not_allowed'
    if (this.penalties.isPenalized(peerId, now)) return 'penalized'
    return undefined
  }
}

/** Open connections per key (an IP address), refused past `limit`; entries vanish at zero. */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>()
  private readonly limit: number

  constructor (limit: number) {
    this.limit = limit
  }

  /** Counts one more connection for `key`, unless that would pass the limit. */
  tryAcquire (key: string): boolean {
    const n = this.counts.get(key) ?? 0
    if (n >= this.limit) return false
    this.counts.set(key, n + 1)
    return true
  }

  release (key: string): void {
    const n = this.counts.get(key)
    if (n === undefined) return
    if (n <= 1) this.counts.delete(key)
    else this.counts.set(key, n - 1)
  }

  count (key: string): number {
    return this.counts.get(key) ?? 0
  }

  /** Keys with at least one open connection. */
  get size (): number {
    return this.counts.size
  }
}

/** Refused connections per reason. */
export class RefusalStats {
  readonly refused = new Map<RefusalReason, number>()

  refuse (reason: RefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1)
  }

  count (reason: RefusalReason): number {
    return this.refused.get(reason) ?? 0
  }

  toJSON (): Record<string, number> {
    return Object.fromEntries(REFUSAL_REASONS.map((r) => [r, this.count(r)]))
  }
}
