import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { ErrorCodes, UsageError } from './errors.ts'

/** Key files hold secrets: owner read/write only. */
export const KEY_FILE_MODE = 0o600

/**
 * Loads the libp2p private key at `path`, or creates an Ed25519 key there
 * (mode 0600) when the file does not exist. A key readable by group or others
 * is refused: anyone who can read it can impersonate this node.
 */
export async function loadOrCreateKey (path: string): Promise<{ key: PrivateKey, created: boolean }> {
  let bytes: Uint8Array
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new UsageError(ErrorCodes.INVALID_KEY_FILE, `key file ${path} is not a regular file`)
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new UsageError(ErrorCodes.INSECURE_KEY_FILE,
        `key file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`)
    }
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof UsageError) throw err
      throw new UsageError(ErrorCodes.INVALID_KEY_FILE, `cannot read key file ${path}: ${(err as Error).message}`)
    }
    return { key: await createKey(path), created: true }
  }
  try {
    return { key: privateKeyFromProtobuf(bytes), created: false }
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_KEY_FILE, `key file ${path} does not hold a libp2p private key: ${(err as Error).message}`)
  }
}

async function createKey (path: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    // 'wx': never overwrite a key another process created meanwhile.
    await writeFile(path, privateKeyToProtobuf(key), { mode: KEY_FILE_MODE, flag: 'wx' })
    await chmod(path, KEY_FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await loadOrCreateKey(path)).key
    throw new UsageError(ErrorCodes.INVALID_KEY_FILE, `cannot create key file ${path}: ${(err as Error).message}`)
  }
  return key
}
