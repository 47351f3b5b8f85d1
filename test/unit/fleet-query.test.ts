import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeFleetCursor, encodeFleetCursor, parseFleetQuery, selectPage } from '../../aggregator/http/fleet-query.ts'
import { compareNodeViews, type NodeView } from '../../aggregator/fleet/view.ts'
import type { NodeStatus } from '../../aggregator/fleet/types.ts'

type Row = Pick<NodeView, 'peerId' | 'displayName' | 'nickname' | 'status' | 'network'>

const row = (peerId: string, nickname: string, status: NodeStatus = 'healthy', network = 'main'): Row =>
  ({ peerId, nickname, displayName: nickname === '' ? peerId : nickname, status, network })

const ordered = (rows: Row[]): Row[] => [...rows].sort(compareNodeViews)
const select = (rows: Row[], query: Record<string, string>): ReturnType<typeof selectPage<Row>> => {
  const parsed = parseFleetQuery(query)
  assert.ok(parsed !== undefined)
  return selectPage(rows, (r) => r as NodeView, (r) => `${r.nickname}\n${r.peerId}`.toLowerCase(), parsed)
}

describe('fleet query', () => {
  it('is absent without any of its parameters (a cache-buster changes nothing)', () => {
    assert.equal(parseFleetQuery({}), undefined)
    assert.equal(parseFleetQuery({ _: '12345' }), undefined)
    assert.equal(parseFleetQuery(undefined), undefined)
  })

  it('has one key for one meaning', () => {
    assert.equal(parseFleetQuery({ status: 'down,unhealthy' })?.key, parseFleetQuery({ status: 'unhealthy, down,down' })?.key)
    assert.notEqual(parseFleetQuery({ status: 'down' })?.key, parseFleetQuery({ status: 'down', limit: '5' })?.key)
    assert.equal(parseFleetQuery({ q: 'LOTUS' })?.text, 'lotus')
  })

  it('refuses what it cannot mean, with a clear error', () => {
    const refused = (query: Record<string, string | string[]>, message: RegExp): void => {
      assert.throws(() => parseFleetQuery(query), (err: Error & { code?: string }) => err.code === 'ERR_INVALID_ARGUMENT' && message.test(err.message))
    }
    refused({ status: 'sick' }, /unknown status "sick": expected some of healthy/)
    refused({ status: ['down', 'stale'] }, /status is given more than once/)
    refused({ limit: '0' }, /invalid limit "0": expected a whole number from 1 to 10000/)
    refused({ limit: '10001' }, /from 1 to 10000/)
    refused({ limit: '-1' }, /invalid limit/)
    refused({ offset: 'x' }, /invalid offset/)
    refused({ offset: '1', cursor: encodeFleetCursor({ displayName: 'a', peerId: 'b' }) }, /offset or cursor, not both/)
    refused({ cursor: 'not a cursor!' }, /invalid cursor/)
    refused({ cursor: Buffer.from('{"x":1}').toString('base64url') }, /invalid cursor/)
    refused({ q: 'x'.repeat(257) }, /longer than 256/)
  })

  it('filters by status, network and text in nickname or peer id', () => {
    const rows = ordered([row('P1', 'lotus-1', 'down'), row('P2', 'lotus-2', 'healthy', 'calibnet'), row('P3', 'forest', 'unhealthy'), row('12D3Lotus', '', 'down')])
    assert.deepEqual(select(rows, { status: 'unhealthy,down' }).items.map((r) => r.peerId), ['12D3Lotus', 'P3', 'P1'], 'by display name: forest before lotus-1')
    assert.deepEqual(select(rows, { network: 'calibnet' }).items.map((r) => r.peerId), ['P2'])
    assert.deepEqual(select(rows, { q: 'LOTUS' }).items.map((r) => r.peerId), ['12D3Lotus', 'P1', 'P2'])
    assert.deepEqual(select(rows, { q: 'lotus', status: 'down' }).items.map((r) => r.peerId), ['12D3Lotus', 'P1'])
    assert.equal(select(rows, { q: 'nobody' }).matched, 0)
  })

  it('pages by cursor: every node once, in order, and a null cursor on the last page', () => {
    const rows = ordered(Array.from({ length: 25 }, (_, i) => row(`P${i}`, `node-${i}`)))
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = select(rows, { limit: '10', ...(cursor === null ? {} : { cursor }) })
      assert.equal(page.matched, 25)
      seen.push(...page.items.map((r) => r.nickname))
      cursor = page.nextCursor
      pages++
    } while (cursor !== null)
    assert.equal(pages, 3)
    assert.deepEqual(seen, rows.map((r) => r.nickname), 'the document\'s order')
    assert.equal(new Set(seen).size, 25)
  })

  it('pages by offset, and a cursor whose node left still knows its place', () => {
    const rows = ordered(Array.from({ length: 6 }, (_, i) => row(`P${i}`, `n${i}`)))
    assert.deepEqual(select(rows, { offset: '4', limit: '10' }).items.map((r) => r.nickname), ['n4', 'n5'])
    assert.deepEqual(select(rows, { offset: '2', limit: '2' }).items.map((r) => r.nickname), ['n2', 'n3'])
    const cursor = encodeFleetCursor({ displayName: 'n2', peerId: 'P2' })
    const without = rows.filter((r) => r.peerId !== 'P2')
    assert.deepEqual(select(without, { cursor, limit: '2' }).items.map((r) => r.nickname), ['n3', 'n4'])
    assert.deepEqual(decodeFleetCursor(cursor), { displayName: 'n2', peerId: 'P2' })
  })
})
