import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { exposeNode, showsDetails } from '../../aggregator/fleet/exposure.ts'
import { nodeView } from '../../aggregator/fleet/view.ts'
import { foldNode } from '../../aggregator/fleet/fold.ts'
import { sampleBeat } from '../support/hostile.ts'
import { at } from '../support/instant.ts'

const record = foldNode(undefined, { type: 'beat', peerId: '12D3KooWexample', heartbeat: sampleBeat(), protocol: 'v2', remoteAddr: '/ip4/10.1.2.3/tcp/51234' }, at(1_700_000_000_000))
if (record === undefined) throw new Error('fold made no record')
const view = nodeView(record, { status: 'degraded', reason: 'chain_source affected' }, { since: 1_700_000_000_000, lag: 0, phi: undefined, duplicateNickname: false, nowMono: 1_700_000_000_000 })

describe('details exposure', () => {
  it('follows Spring show-details: never, when-authorized, always', () => {
    assert.deepEqual([showsDetails('never', false), showsDetails('never', true)], [false, false])
    assert.deepEqual([showsDetails('when-authorized', false), showsDetails('when-authorized', true)], [false, true])
    assert.deepEqual([showsDetails('always', false), showsDetails('always', true)], [true, true])
  })

  it('without details: component statuses stay, details and the remote address go', () => {
    const exposed = exposeNode(view, false, record.remoteAddr)
    assert.deepEqual(exposed.health, { status: 'affected', components: { chain_source: { status: 'affected' } } })
    assert.equal('remoteAddr' in exposed, false)
    assert.equal(exposed.status, 'degraded')
    assert.equal(exposed.reason, 'chain_source affected')
    assert.equal(JSON.stringify(exposed).includes('lagBlocks'), false)
    assert.equal(JSON.stringify(exposed).includes('10.1.2.3'), false)
  })

  it('with details: everything, plus the remote address', () => {
    const exposed = exposeNode(view, true, record.remoteAddr)
    assert.deepEqual(exposed.health, sampleBeat().health)
    assert.equal(exposed.remoteAddr, '/ip4/10.1.2.3/tcp/51234')
  })

  it('strips a remote address a view already carries when details are off', () => {
    const withAddr = { ...view, remoteAddr: '/ip4/10.9.9.9/tcp/1' }
    assert.equal('remoteAddr' in exposeNode(withAddr, false), false)
    assert.equal(exposeNode(withAddr, true).remoteAddr, '/ip4/10.9.9.9/tcp/1')
  })
})
