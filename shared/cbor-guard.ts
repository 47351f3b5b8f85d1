/**
 * A pre-check that a frame body is plain CBOR before cbor-x sees it.
 *
 * cbor-x decodes far more than the heartbeat needs, and some of it is unsafe
 * on input from strangers: shared references (tags 28/29) build a DAG whose
 * JSON form doubles per level (a 150-byte frame took seconds to serialise),
 * record definitions change the decoder's state for later frames, and deep
 * nesting recurses until the stack overflows. The heartbeat protocol uses
 * none of it, so this scanner (iterative, O(bytes)) admits only well-formed
 * items of major types 0-5 and the simple values false/true/null/undefined
 * and floats, nested no deeper than `maxDepth`, with every declared length
 * within the bytes that are left, and exactly one top-level item.
 */

/** Nesting allowed in a heartbeat: the map, health, components, one component, then details. */
export const DEFAULT_MAX_CBOR_DEPTH = 32

export type CborGuardReason = 'cbor_tag' | 'too_deep' | 'malformed'

export type CborGuardResult = { ok: true } | { ok: false, reason: CborGuardReason, message: string }

class Refused extends Error {
  readonly reason: CborGuardReason
  constructor (reason: CborGuardReason, message: string) {
    super(message)
    this.reason = reason
  }
}

/** An open container: items still to read (-1 = indefinite, ends at a break). */
interface Open { remaining: number, stringMajor?: number }

export function checkPlainCbor (bytes: Uint8Array, maxDepth: number = DEFAULT_MAX_CBOR_DEPTH): CborGuardResult {
  try {
    scan(bytes, maxDepth)
    return { ok: true }
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.reason, message: err.message }
    throw err
  }
}

function scan (bytes: Uint8Array, maxDepth: number): void {
  const end = bytes.length
  let pos = 0
  const stack: Open[] = []
  let topLevelItems = 0

  const need = (n: number): void => {
    if (n > end - pos) throw new Refused('malformed', `truncated CBOR at byte ${pos}`)
  }
  /** Reads the argument of a head with additional info `ai`; -1 means indefinite. */
  const argument = (ai: number): number => {
    if (ai < 24) return ai
    if (ai === 24) { need(1); return bytes[pos++] as number }
    if (ai === 25) { need(2); const v = ((bytes[pos] as number) << 8) | (bytes[pos + 1] as number); pos += 2; return v }
    if (ai === 26) { need(4); const v = readUint32(bytes, pos); pos += 4; return v }
    if (ai === 27) {
      need(8)
      const high = readUint32(bytes, pos)
      const low = readUint32(bytes, pos + 4)
      pos += 8
      // Values beyond 2^53 are fine as integers (cbor-x makes bigints), never as lengths.
      return high * 0x1_0000_0000 + low
    }
    if (ai === 31) return -1
    throw new Refused('malformed', `reserved additional info ${ai} at byte ${pos - 1}`)
  }
  /** One item finished: count it against the innermost open container. */
  const itemDone = (): void => {
    while (true) {
      const top = stack[stack.length - 1]
      if (top === undefined) { topLevelItems++; return }
      if (top.remaining < 0) return
      top.remaining--
      if (top.remaining > 0) return
      stack.pop()
    }
  }
  const open = (remaining: number, stringMajor?: number): void => {
    if (remaining === 0) { itemDone(); return }
    if (stack.length >= maxDepth) throw new Refused('too_deep', `CBOR nested deeper than ${maxDepth} levels`)
    stack.push(stringMajor === undefined ? { remaining } : { remaining, stringMajor })
  }

  while (pos < end) {
    if (stack.length === 0 && topLevelItems === 1) throw new Refused('malformed', `trailing bytes after the CBOR item at byte ${pos}`)
    const head = bytes[pos++] as number
    const major = head >> 5
    const ai = head & 0x1f
    const top = stack[stack.length - 1]
    if (top?.stringMajor !== undefined && head !== 0xff && (major !== top.stringMajor || ai === 31)) {
      throw new Refused('malformed', `bad chunk in an indefinite-length string at byte ${pos - 1}`)
    }
    switch (major) {
      case 0:
      case 1:
        if (ai === 31) throw new Refused('malformed', `indefinite integer at byte ${pos - 1}`)
        argument(ai)
        itemDone()
        break
      case 2:
      case 3: {
        const length = argument(ai)
        if (length < 0) { open(-1, major); break }
        need(length)
        pos += length
        itemDone()
        break
      }
      case 4:
      case 5: {
        const count = argument(ai)
        if (count < 0) { open(-1); break }
        const items = major === 5 ? count * 2 : count
        // Every item takes at least one byte: a larger declared count is a lie.
        if (items > end - pos) throw new Refused('malformed', `declared ${major === 5 ? 'map' : 'array'} size ${count} exceeds the frame at byte ${pos}`)
        open(items)
        break
      }
      case 6:
        throw new Refused('cbor_tag', `CBOR tags are not part of the heartbeat protocol (byte ${pos - 1})`)
      default: {
        if (ai === 31) {
          if (top === undefined || top.remaining >= 0) throw new Refused('malformed', `unexpected break at byte ${pos - 1}`)
          stack.pop()
          itemDone()
          break
        }
        if (ai >= 20 && ai <= 23) { itemDone(); break }
        if (ai === 25) { need(2); pos += 2; itemDone(); break }
        if (ai === 26) { need(4); pos += 4; itemDone(); break }
        if (ai === 27) { need(8); pos += 8; itemDone(); break }
        throw new Refused('malformed', `simple value ${ai === 24 ? String(bytes[pos]) : String(ai)} is not part of the heartbeat protocol (byte ${pos - 1})`)
      }
    }
  }
  if (stack.length > 0 || topLevelItems !== 1) throw new Refused('malformed', topLevelItems === 0 && stack.length === 0 ? 'empty frame' : 'truncated CBOR: an item is not finished')
}

function readUint32 (bytes: Uint8Array, at: number): number {
  return (((bytes[at] as number) << 24) >>> 0) + ((bytes[at + 1] as number) << 16) + ((bytes[at + 2] as number) << 8) + (bytes[at + 3] as number)
}
