import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTarget } from '../../shared/target.ts'
import { ErrorCodes } from '../../shared/errors.ts'

const PEER = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'

test('a target names an address and the peer id Noise must prove', () => {
  const target = parseTarget(`/ip4/127.0.0.1/tcp/4100/p2p/${PEER}`)
  assert.equal(target.peerId.toString(), PEER)
  assert.equal(target.text, `/ip4/127.0.0.1/tcp/4100/p2p/${PEER}`)
})

test('a target without /p2p/, or with a broken multiaddr or peer id, is refused clearly', () => {
  assert.throws(() => parseTarget('/ip4/127.0.0.1/tcp/4100'), (err: { code: string, message: string }) => {
    assert.equal(err.code, ErrorCodes.INVALID_MULTIADDR)
    assert.match(err.message, /\/p2p\/<peer id>/)
    return true
  })
  assert.throws(() => parseTarget('not-a-multiaddr'), { code: ErrorCodes.INVALID_MULTIADDR })
  assert.throws(() => parseTarget('/ip4/127.0.0.1/tcp/4100/p2p/QmNotAPeer'), { code: ErrorCodes.INVALID_MULTIADDR })
})
