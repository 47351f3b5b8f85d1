import type { Heartbeat } from '../../shared/heartbeat.ts'
import type { IngestRejectReason } from './stats.ts'

/** Per heartbeat, after decoding: undefined to take it; otherwise why not (counted under `reason`, the stream is reset). */
export type HeartbeatFilter = (heartbeat: Heartbeat) => { reason: IngestRejectReason, message: string } | undefined

/**
 * The network filter (--network): an aggregator meant for one network refuses
 * heartbeats of any other, so nodes of a test net cannot inflate the counts
 * of the main one (go-filecoin's aggregator had exactly that problem until
 * nodes sent their genesis CID). A heartbeat that names no network is refused
 * too: it cannot be checked. Without --network every heartbeat is taken and
 * the view groups nodes by network.
 */
export function networkFilter (expected: string | undefined): HeartbeatFilter | undefined {
  if (expected === undefined) return undefined
  return (heartbeat) => {
    if (heartbeat.network === expected) return undefined
    const said = heartbeat.network === '' ? 'names no network' : `is for network "${heartbeat.network}"`
    return { reason: 'wrong_network', message: `heartbeat ${said}; this aggregator takes only "${expected}"` }
  }
}
