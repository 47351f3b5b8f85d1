import { z } from 'zod'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { LIMITS, MAX_UINT } from '../../shared/protocol.ts'
import { describeIssues } from '../../shared/validation.ts'
import type { ChainReading, ChainSource } from '../source.ts'
import { tipsetKeyString } from './tipset-key.ts'

/** What a head getter returns: the head (a string, or a tipset's CIDs) and its height. */
export interface HeadInfo {
  /** The head as a string, or the CIDs of a tipset (written as go-filecoin's tipset key). */
  head: string | string[]
  height: number
  /** Genesis CID or chain id; lets the aggregator keep networks apart. */
  network?: string
  /** The head's own timestamp (ms since the epoch, or a Date): how old the chain the node follows is. */
  headTime?: number | Date
}

/** go-filecoin's HeadGetter, asynchronous and abortable. */
export type HeadGetter = (options: { signal: AbortSignal }) => HeadInfo | Promise<HeadInfo>
/** go-filecoin's MinerAddressGetter; an empty string when the node has no miner. */
export type MinerAddressGetter = () => string | Promise<string>

const headInfoSchema = z.object({
  head: z.union([z.string().min(1).max(LIMITS.head), z.array(z.string()).min(1)]),
  height: z.number().int().min(0).max(MAX_UINT),
  network: z.string().max(LIMITS.network).optional(),
  headTime: z.union([z.number().int().min(0).max(MAX_UINT), z.date().transform((d) => d.getTime())]).optional(),
})

/**
 * A chain source from an embedding program's getters. What they return is
 * checked like any node's answer: a getter that returns nonsense or throws
 * turns chain_source not_ready, it does not crash the program.
 */
export class GetterSource implements ChainSource {
  readonly kind = 'embedded'
  private readonly headGetter: HeadGetter
  private readonly minerAddressGetter: MinerAddressGetter | undefined

  constructor (headGetter: HeadGetter, minerAddressGetter?: MinerAddressGetter) {
    this.headGetter = headGetter
    this.minerAddressGetter = minerAddressGetter
  }

  async read ({ signal }: { signal: AbortSignal }): Promise<ChainReading> {
    const parsed = headInfoSchema.safeParse(await this.headGetter({ signal }))
    if (!parsed.success) throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `the head getter returned an unusable answer: ${describeIssues(parsed.error)}`)
    const info = parsed.data
    let head: string
    try {
      head = typeof info.head === 'string' ? info.head : tipsetKeyString(info.head)
    } catch (err) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `the head getter returned a tipset with ${(err as Error).message}`)
    }
    const reading: ChainReading = { head, height: info.height }
    if (info.network !== undefined) reading.network = info.network
    if (info.headTime !== undefined && Number.isFinite(info.headTime)) reading.headTime = info.headTime
    if (this.minerAddressGetter !== undefined) {
      // As go-filecoin: a node without a miner address sends an empty one, it is not a failure.
      try {
        const address = await this.minerAddressGetter()
        if (typeof address === 'string') reading.minerAddress = address.slice(0, LIMITS.minerAddress)
      } catch {
        reading.minerAddress = ''
      }
    }
    return reading
  }
}
