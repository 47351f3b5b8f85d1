/**
 * Consensus per network, as go-filecoin's aggregator counted it (nodes in
 * consensus / in dispute on the heaviest head) plus the maximum height that
 * each node's lag is measured against. Tallied incrementally: each node's
 * vote is added when it starts to count and removed when it stops or
 * changes (O(1) per vote, plus a walk over the network's distinct heights
 * when its top height empties), so nothing walks the fleet.
 */

/** What a node contributes to its network's consensus. */
export interface ConsensusVoter {
  network: string
  head: string
  height: number
  /** False for nodes that are down, stale, stopped or have never read a head: they are listed, but their head does not vote. */
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
  /** Reporting nodes on any other head, except those catching up. */
  inDispute: number
  /**
   * Reporting nodes one block behind a height the network reached less than a
   * block time ago: they have not heard of the new block yet. Not a dispute.
   */
  catchingUp: number
  /** Nodes whose head counts (inConsensus + inDispute + catchingUp). */
  reporting: number
  /** Every node of the network in the view, reporting or not. */
  nodes: number
}

interface HeightBucket {
  votes: number
  heads: Map<string, number>
  /** The peers voting at this height (when the tally is told who they are). */
  members: Set<string>
}

/** Nodes this far behind the top height count as catching up while the top height is new. */
export const CATCH_UP_BLOCKS = 1

/** How the interval between new top heights is learned for networks of unknown block time (weight of the newest). */
const BLOCK_INTERVAL_WEIGHT = 0.2

/** One network's votes. */
export class NetworkVotes {
  readonly network: string
  nodes = 0
  reporting = 0
  private readonly heights = new Map<number, HeightBucket>()
  private top: number | undefined
  /** Monotonic time the top height was reached (undefined: unknown, e.g. it came back down). */
  topSince: number | undefined
  /** The observed time between successive top heights (an estimate of the block time). */
  observedBlockMs: number | undefined

  constructor (network: string) {
    this.network = network
  }

  /** The greatest height a reporting node is at; undefined when none reports. */
  get maxHeight (): number | undefined {
    return this.top
  }

  add (voter: ConsensusVoter, peerId?: string, nowMono?: number): void {
    this.nodes++
    if (!voter.reporting) return
    this.reporting++
    let bucket = this.heights.get(voter.height)
    if (bucket === undefined) {
      bucket = { votes: 0, heads: new Map(), members: new Set() }
      this.heights.set(voter.height, bucket)
    }
    bucket.votes++
    bucket.heads.set(voter.head, (bucket.heads.get(voter.head) ?? 0) + 1)
    if (peerId !== undefined) bucket.members.add(peerId)
    if (this.top === undefined || voter.height > this.top) {
      if (nowMono !== undefined && this.top !== undefined && this.topSince !== undefined && voter.height === this.top + 1) {
        const interval = nowMono - this.topSince
        this.observedBlockMs = this.observedBlockMs === undefined ? interval : this.observedBlockMs + BLOCK_INTERVAL_WEIGHT * (interval - this.observedBlockMs)
      }
      this.top = voter.height
      this.topSince = nowMono
    }
  }

  remove (voter: ConsensusVoter, peerId?: string): void {
    this.nodes--
    if (!voter.reporting) return
    this.reporting--
    const bucket = this.heights.get(voter.height)
    if (bucket === undefined) return
    bucket.votes--
    const n = (bucket.heads.get(voter.head) ?? 0) - 1
    if (n <= 0) bucket.heads.delete(voter.head)
    else bucket.heads.set(voter.head, n)
    if (peerId !== undefined) bucket.members.delete(peerId)
    if (bucket.votes > 0) return
    this.heights.delete(voter.height)
    if (voter.height !== this.top) return
    // The top emptied: the next height down (a walk over distinct heights, which are few).
    let top: number | undefined
    for (const h of this.heights.keys()) if (top === undefined || h > top) top = h
    this.top = top
    this.topSince = undefined
  }

  /** Peers voting at heights below `limit` (those whose lag a new top height changes). */
  * membersBelow (limit: number): Generator<string> {
    for (const [h, bucket] of this.heights) if (h < limit) yield * bucket.members
  }

  /**
   * The network's consensus at `nowMono`; nodes one block behind a top height
   * younger than `catchUpMs` are catching up, not in dispute.
   */
  summary (nowMono: number | undefined, catchUpMs: number): NetworkConsensus {
    const top = this.top
    const atTop = top === undefined ? undefined : this.heights.get(top)
    const heaviestHead = atTop === undefined ? null : pickHeaviest(atTop.heads)
    // A head names one tipset at one height: the nodes on it are exactly its votes at the maximum.
    const inConsensus = heaviestHead === null || atTop === undefined ? 0 : (atTop.heads.get(heaviestHead) ?? 0)
    let catchingUp = 0
    if (top !== undefined && nowMono !== undefined && this.topSince !== undefined && nowMono - this.topSince < catchUpMs) {
      for (let h = top - CATCH_UP_BLOCKS; h < top; h++) catchingUp += this.heights.get(h)?.votes ?? 0
    }
    return {
      network: this.network,
      heaviestHead,
      height: heaviestHead === null || top === undefined ? 0 : top,
      inConsensus,
      inDispute: this.reporting - inConsensus - catchingUp,
      catchingUp,
      reporting: this.reporting,
      nodes: this.nodes,
    }
  }

  /** When the catch-up window of the current top height closes (monotonic), if one is open. */
  catchUpEnds (catchUpMs: number): number | undefined {
    return this.topSince === undefined || catchUpMs <= 0 ? undefined : this.topSince + catchUpMs
  }
}

/** Votes of every network, kept up to date vote by vote. */
export class ConsensusTally {
  private readonly byNetwork = new Map<string, NetworkVotes>()

  add (voter: ConsensusVoter, peerId?: string, nowMono?: number): NetworkVotes {
    let votes = this.byNetwork.get(voter.network)
    if (votes === undefined) {
      votes = new NetworkVotes(voter.network)
      this.byNetwork.set(voter.network, votes)
    }
    votes.add(voter, peerId, nowMono)
    return votes
  }

  remove (voter: ConsensusVoter, peerId?: string): NetworkVotes | undefined {
    const votes = this.byNetwork.get(voter.network)
    if (votes === undefined) return undefined
    votes.remove(voter, peerId)
    if (votes.nodes <= 0) this.byNetwork.delete(voter.network)
    return votes
  }

  get (network: string): NetworkVotes | undefined {
    return this.byNetwork.get(network)
  }

  networks (): IterableIterator<NetworkVotes> {
    return this.byNetwork.values()
  }

  /** Consensus of every network seen, keyed by network id (no catch-up: a tally without time). */
  result (): Map<string, NetworkConsensus> {
    const result = new Map<string, NetworkConsensus>()
    for (const votes of this.byNetwork.values()) result.set(votes.network, votes.summary(undefined, 0))
    return result
  }
}

/** Consensus of every network present, keyed by network id. */
export function computeConsensus (voters: Iterable<ConsensusVoter>): Map<string, NetworkConsensus> {
  const tally = new ConsensusTally()
  for (const v of voters) tally.add(v)
  return tally.result()
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
export function sortedNetworks<T extends { network: string }> (networks: Map<string, T>): T[] {
  return [...networks.values()].sort((a, b) => {
    if (a.network === '' || b.network === '') return a.network === '' ? (b.network === '' ? 0 : 1) : -1
    return a.network < b.network ? -1 : a.network > b.network ? 1 : 0
  })
}
