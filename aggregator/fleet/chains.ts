/**
 * What the aggregator knows of the chains its nodes follow, by the network id
 * a heartbeat carries (docs/fleet-semantics.md, "Sync judged by time"): the
 * block time, and for Filecoin networks the genesis time, from which the
 * expected height follows (what Lotus exports as
 * lotus_chain_node_height_expected = floor((now - genesis) / 30 s)). Pure
 * data and arithmetic; unknown networks have no entry.
 */

export interface ChainFacts {
  /** Said in reasons: "Filecoin mainnet". */
  name: string
  /** Target time between blocks (epochs), ms. */
  blockTimeMs: number
  /**
   * Genesis time, ms since the epoch, for chains whose height is a clock:
   * Filecoin epochs are numbered by time (null rounds keep the number going
   * without a block), so height h is due at genesis + h x block time.
   */
  genesisMs?: number
}

/** Filecoin: 30 s epochs (builtin.EpochDurationSeconds). */
const FILECOIN_EPOCH_MS = 30_000
/** Ethereum since the merge: 12 s slots. */
const ETHEREUM_SLOT_MS = 12_000

export const FILECOIN_MAINNET: ChainFacts = Object.freeze({ name: 'Filecoin mainnet', blockTimeMs: FILECOIN_EPOCH_MS, genesisMs: 1_598_306_400_000 }) // 2020-08-24T22:00:00Z
export const FILECOIN_CALIBNET: ChainFacts = Object.freeze({ name: 'Filecoin calibnet', blockTimeMs: FILECOIN_EPOCH_MS, genesisMs: 1_667_326_380_000 }) // 2022-11-01T18:13:00Z (the reset)

/**
 * By what a Filecoin agent says its network is: the genesis block CID (what
 * Lotus's ChainGetGenesis gives and go-filecoin sent) or, when the genesis
 * cannot be had, the network name (StateNetworkName: mainnet is "testnetnet").
 */
const FILECOIN_NETWORKS: ReadonlyMap<string, ChainFacts> = new Map([
  ['bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2', FILECOIN_MAINNET],
  ['testnetnet', FILECOIN_MAINNET],
  ['mainnet', FILECOIN_MAINNET],
  ['bafy2bzacecyaggy24wol5ruvs6qm73gjibs2l2iyhcqmvi7r7a4ph7zx3yqd4', FILECOIN_CALIBNET],
  ['calibrationnet', FILECOIN_CALIBNET],
  ['calibnet', FILECOIN_CALIBNET],
])

/**
 * EIP-155 chain ids (agents on an Ethereum node send `eip155:<id>/<genesis
 * hash>`). Filecoin's EVM chains number their blocks by epoch too.
 */
const EIP155_CHAINS: ReadonlyMap<number, ChainFacts> = new Map([
  [1, { name: 'Ethereum mainnet', blockTimeMs: ETHEREUM_SLOT_MS }],
  [11_155_111, { name: 'Ethereum Sepolia', blockTimeMs: ETHEREUM_SLOT_MS }],
  [17_000, { name: 'Ethereum Holesky', blockTimeMs: ETHEREUM_SLOT_MS }],
  [560_048, { name: 'Ethereum Hoodi', blockTimeMs: ETHEREUM_SLOT_MS }],
  [100, { name: 'Gnosis Chain', blockTimeMs: 5_000 }],
  [10, { name: 'OP Mainnet', blockTimeMs: 2_000 }],
  [8_453, { name: 'Base', blockTimeMs: 2_000 }],
  [314, FILECOIN_MAINNET],
  [314_159, FILECOIN_CALIBNET],
])

const EIP155 = /^eip155:(\d{1,12})(?:\/|$)/

/** Answers per network id, asked on every beat: a fleet has few networks (bounded anyway: peers choose the ids). */
const memo = new Map<string, ChainFacts | null>()
const MEMO_LIMIT = 1_000

/** The facts of a network id, or undefined for a network this aggregator does not know. */
export function chainOf (network: string): ChainFacts | undefined {
  const known = memo.get(network)
  if (known !== undefined) return known ?? undefined
  const eip155 = EIP155.exec(network)
  const facts = FILECOIN_NETWORKS.get(network) ?? (eip155 === null ? undefined : EIP155_CHAINS.get(Number(eip155[1])))
  if (memo.size >= MEMO_LIMIT) memo.clear()
  memo.set(network, facts ?? null)
  return facts
}

/** The height a chain with a genesis clock should be at, at `atMs` (ms since the epoch): floor((at - genesis) / block time). */
export function expectedHeightAt (chain: ChainFacts, atMs: number): number | undefined {
  if (chain.genesisMs === undefined) return undefined
  return Math.max(0, Math.floor((atMs - chain.genesisMs) / chain.blockTimeMs))
}
