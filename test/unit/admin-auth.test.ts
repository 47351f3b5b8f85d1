import assert from 'node:assert/strict'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { AdminAuth, readAdminTokenFile } from '../../aggregator/http/admin-auth.ts'
import { parseCorsOrigin } from '../../aggregator/http/security.ts'
import { UsageError } from '../../shared/errors.ts'
import { tempDir } from '../support/processes.ts'

const TOKEN = '0123456789abcdef0123456789abcdef'

describe('AdminAuth', () => {
  it('accepts exactly the bearer token', () => {
    const auth = new AdminAuth(TOKEN)
    assert.equal(auth.enabled, true)
    assert.equal(auth.verify(`Bearer ${TOKEN}`), true)
    assert.equal(auth.verify(`bearer  ${TOKEN} `), true, 'scheme is case-insensitive (RFC 7235)')
    for (const header of [undefined, '', 'Bearer', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`]) {
      assert.equal(auth.verify(header), false, `header ${String(header)}`)
    }
  })

  it('authorizes nobody when no token is configured', () => {
    const auth = new AdminAuth(undefined)
    assert.equal(auth.enabled, false)
    assert.equal(auth.verify('Bearer '), false)
    assert.equal(auth.verify('Bearer undefined'), false)
  })
})

describe('readAdminTokenFile', () => {
  const write = (text: string, mode: number): string => {
    const path = join(tempDir('hb-token-'), 'admin.token')
    writeFileSync(path, text, { mode })
    chmodSync(path, mode)
    return path
  }

  it('reads a private token file, trimmed', async () => {
    assert.deepEqual(await readAdminTokenFile(write(`${TOKEN}\n`, 0o600)), { token: TOKEN, readableByOthers: false })
  })

  it('reports a token file readable by others (the caller warns: Kubernetes mounts secrets 0644)', async () => {
    assert.equal((await readAdminTokenFile(write(TOKEN, 0o644))).readableByOthers, true)
  })

  it('refuses short or multi-word tokens and missing files', async () => {
    await assert.rejects(readAdminTokenFile(write('short', 0o600)), UsageError)
    await assert.rejects(readAdminTokenFile(write(`${TOKEN} ${TOKEN}`, 0o600)), UsageError)
    await assert.rejects(readAdminTokenFile('/nonexistent/admin.token'), UsageError)
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
