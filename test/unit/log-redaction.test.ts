import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLogger, REDACTED } from '../../shared/log.ts'

function capture (): { lines: string[], destination: { write: (line: string) => void } } {
  const lines: string[] = []
  return { lines, destination: { write: (line: string) => { lines.push(line) } } }
}

describe('log redaction', () => {
  it('never writes a token, an Authorization header or a password', () => {
    const { lines, destination } = capture()
    const log = createLogger({ name: 'test', destination })
    log.info({ token: 'node-secret-1', source: { url: 'http://127.0.0.1:1234/rpc/v0', token: 'node-secret-2' } }, 'source configured')
    log.warn({ request: { headers: { authorization: 'Bearer node-secret-3' } }, adminToken: 'node-secret-4', password: 'node-secret-5' }, 'request')
    log.info({ config: { source: { lotus: { token: 'node-secret-6', url: 'ws://10.0.0.7:1234' } } } }, 'config reloaded')
    const text = lines.join('')
    assert.equal(/node-secret/.test(text), false, text)
    assert.ok(text.includes(REDACTED))
    assert.ok(text.includes('http://127.0.0.1:1234/rpc/v0'), 'other fields stay')
  })
})
