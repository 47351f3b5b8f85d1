/**
 * Consensus per network, as go-filecoin's aggregator counted it (nodes in
 * consensus / in dispute on the heaviest head) plus the maximum height that
 * each node's lag is measured against. Pure and O(N) over the nodes: the
 * fleet computes it once per status tick (or on read after changes), never
 * per heartbeat.
 */

/** What the consensus pass needs to know about one node. */
export interface ConsensusVoter {
  network: string
  head: string
  height: number
  /** False for nodes that are down, stale or stopped: they are listed, but their head does not vote. */
  reporting: boolean
}

export interface NetworkConsensus {
  /** Genesis CID or chain id; '' for nodes that did not say. */
  network: string
  /** The head most reporting nodes are on at the greatest height; null when no node reports. */
  heaviestHead: string | null
  /** Height of the heaviest head: the greatest height any reporting node is at (0 when none). */
  height: number
  /** Reporting nodes on the heaviest head. */
  inConsensus: number
  /** Reporting nodes on any other head. */
  inDispute: number
  /** Nodes whose head counts (inConsensus + inDispute). */
  reporting: number
  /** Every node of the network in the view, reporting or not. */
  nodes: number
}

interface Tally {
  network: string
  nodes: number
  reporting: number
  maxHeight: number
  /** Votes per head, only for heads at maxHeight (reset when a greater height appears). */
  headsAtMax: Map<string, number>
}

/**
 * Accumulates votes node by node (O(1) each) so a caller that walks the
 * fleet anyway can build consensus in the same pass, without intermediate
 * objects.
 */
export class ConsensusTally {
  private readonly tallies = new Map<string, Tally>()

  add (network: string, head: string, height: number, reporting: boolean): void {
    let tally = this.tallies.get(network)
    if (tally === undefined) {
      tally = { network, nodes: 0, reporting: 0, maxHeight: -1, headsAtMax: new Map() }
      this.tallies.set(network, tally)
    }
    tally.nodes++
    if (!reporting) return
    tally.reporting++
    if (height > tally.maxHeight) {
      tally.maxHeight = height
      tally.headsAtMax = new Map()
    }
    if (height === tally.maxHeight) tally.headsAtMax.set(head, (tally.headsAtMax.get(head) ?? 0) + 1)
  }

  /** Consensus of every network seen, keyed by network id. */
  result (): Map<string, NetworkConsensus> {
    const result = new Map<string, NetworkConsensus>()
    for (const tally of this.tallies.values()) result.set(tally.network, settleTally(tally))
    return result
  }
}

/** Consensus of every network present, keyed by network id. */
export function computeConsensus (voters: Iterable<ConsensusVoter>): Map<string, NetworkConsensus> {
  const tally = new ConsensusTally()
  for (const v of voters) tally.add(v.network, v.head, v.height, v.reporting)
  return tally.result()
}

function settleTally (tally: Tally): NetworkConsensus {
  const heaviestHead = pickHeaviest(tally.headsAtMax)
  // A head names one tipset at one height: the nodes on it are exactly its votes at the maximum.
  const inConsensus = heaviestHead === null ? 0 : (tally.headsAtMax.get(heaviestHead) ?? 0)
  return {
    network: tally.network,
    heaviestHead,
    height: heaviestHead === null ? 0 : tally.maxHeight,
    inConsensus,
    inDispute: tally.reporting - inConsensus,
    reporting: tally.reporting,
    nodes: tally.nodes,
  }
}

/** Most votes wins; a tie goes to the smallest head string, so every aggregator and every run agree. */
function pickHeaviest (votes: Map<string, number>): string | null {
  let best: string | null = null
  let bestVotes = 0
  for (const [head, n] of votes) {
    if (n > bestVotes || (n === bestVotes && best !== null && head < best)) {
      best = head
      bestVotes = n
    }
  }
  return best
}

/** Networks in a stable order for the API: by id, the unnamed network ('') last. */
export function sortedNetworks (networks: Map<string, NetworkConsensus>): NetworkConsensus[] {
  return [...networks.values()].sort((a, b) => {
    if (a.network === '' || b.network === '') return a.network === '' ? (b.network === '' ? 0 : 1) : -1
    return a.network < b.network ? -1 : a.network > b.network ? 1 : 0
  })
}
