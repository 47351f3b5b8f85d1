import type { AdmissionCheck } from './v2-handler.ts'

/**
 * --network: an aggregator meant for one network refuses heartbeats of any
 * other, so nodes of a test net cannot inflate the counts of the main one
 * (go-filecoin's aggregator had exactly that problem until nodes sent their
 * genesis CID). A heartbeat that names no network is refused too: it cannot
 * be checked. Without --network every heartbeat is admitted and the view
 * groups nodes by network.
 */
export function networkAdmission (expected: string | undefined): AdmissionCheck | undefined {
  if (expected === undefined) return undefined
  return (heartbeat) => {
    if (heartbeat.network === expected) return undefined
    const said = heartbeat.network === '' ? 'names no network' : `is for network "${heartbeat.network}"`
    return { reason: 'wrong_network', message: `heartbeat ${said}; this aggregator takes only "${expected}"` }
  }
}
