import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { AdminAuth, loadAdminToken, parseCorsOrigin } from '../../aggregator/http/security.ts'
import { UsageError } from '../../shared/errors.ts'
import { tempDir } from '../support/processes.ts'

const TOKEN = '0123456789abcdef0123456789abcdef'

describe('AdminAuth', () => {
  it('accepts exactly the bearer token', () => {
    const auth = new AdminAuth(TOKEN)
    assert.equal(auth.enabled, true)
    assert.equal(auth.isAuthorized(`Bearer ${TOKEN}`), true)
    assert.equal(auth.isAuthorized(`bearer  ${TOKEN} `), true, 'scheme is case-insensitive (RFC 7235)')
    for (const header of [undefined, '', 'Bearer', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`]) {
      assert.equal(auth.isAuthorized(header), false, `header ${String(header)}`)
    }
  })

  it('authorizes nobody when no token is configured', () => {
    const auth = new AdminAuth(undefined)
    assert.equal(auth.enabled, false)
    assert.equal(auth.isAuthorized('Bearer '), false)
    assert.equal(auth.isAuthorized('Bearer undefined'), false)
  })
})

describe('loadAdminToken', () => {
  const write = (text: string, mode: number): string => {
    const path = join(tempDir('hb-token-'), 'admin.token')
    writeFileSync(path, text, { mode })
    return path
  }

  it('reads a private token file, trimmed', async () => {
    assert.equal(await loadAdminToken(write(`${TOKEN}\n`, 0o600)), TOKEN)
  })

  it('refuses a token file readable by others, naming the fix', async () => {
    await assert.rejects(loadAdminToken(write(TOKEN, 0o644)), (err: unknown) => err instanceof UsageError && err.code === 'ERR_INSECURE_KEY_FILE' && /chmod 600/.test(err.message))
  })

  it('refuses short or multi-word tokens and missing files', async () => {
    await assert.rejects(loadAdminToken(write('short', 0o600)), UsageError)
    await assert.rejects(loadAdminToken(write(`${TOKEN} ${TOKEN}`, 0o600)), UsageError)
    await assert.rejects(loadAdminToken('/nonexistent/admin.token'), UsageError)
  })
})

describe('parseCorsOrigin', () => {
  it('takes * or a bare origin', () => {
    assert.equal(parseCorsOrigin('*'), '*')
    assert.equal(parseCorsOrigin('https://ops.example.com'), 'https://ops.example.com')
    assert.equal(parseCorsOrigin('http://localhost:3000/'), 'http://localhost:3000')
    for (const bad of ['ops.example.com', 'https://ops.example.com/path', 'ftp://x.example', 'javascript:alert(1)']) {
      assert.throws(() => parseCorsOrigin(bad), UsageError, bad)
    }
  })
})
