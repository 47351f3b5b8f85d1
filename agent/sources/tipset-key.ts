import { CID } from 'multiformats/cid'

/** Parses a CID string; throws with a short message when it is not one. */
export function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch (err) {
    throw new Error(`"${text.slice(0, 80)}" is not a CID: ${(err as Error).message}`)
  }
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/**
 * A tipset's key written as go-filecoin's heartbeat wrote its head
 * (SortedCidSet.String): the CIDs sorted by their binary form, inside braces,
 * each preceded by a space: "{ bafy…a bafy…b }". The same tipset always gives
 * the same string, whatever order the node listed the blocks in, so the
 * aggregator can count nodes that agree on a head.
 */
export function tipsetKeyString (cids: Iterable<CID | string>): string {
  const parsed = [...cids].map((c) => typeof c === 'string' ? parseCid(c) : c)
  parsed.sort((a, b) => compareBytes(a.bytes, b.bytes))
  let out = '{'
  for (const cid of parsed) out += ` ${cid.toString()}`
  return `${out} }`
}
