import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateKey } from '../../shared/identity.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { tempDir } from '../support/processes.ts'

test('creates an Ed25519 key with mode 0600 and loads the same identity back', async () => {
  const path = join(tempDir(), 'nested', 'agent.key')
  const first = await loadOrCreateKey(path)
  assert.equal(first.created, true)
  assert.equal(first.key.type, 'Ed25519')
  assert.equal((await stat(path)).mode & 0o777, 0o600)
  const second = await loadOrCreateKey(path)
  assert.equal(second.created, false)
  assert.equal(peerIdFromPrivateKey(second.key).toString(), peerIdFromPrivateKey(first.key).toString())
})

test('refuses a key file readable by others', async () => {
  const path = join(tempDir(), 'agent.key')
  await loadOrCreateKey(path)
  await chmod(path, 0o644)
  await assert.rejects(loadOrCreateKey(path), (err: { code?: string, message: string }) => {
    assert.equal(err.code, ErrorCodes.INSECURE_KEY_FILE)
    assert.match(err.message, /chmod 600/)
    return true
  })
})

test('a file that is not a key is a clear error', async () => {
  const path = join(tempDir(), 'agent.key')
  await writeFile(path, 'hello', { mode: 0o600 })
  await assert.rejects(loadOrCreateKey(path), { code: ErrorCodes.INVALID_KEY_FILE })
})
