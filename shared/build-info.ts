import { readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { version as LIBP2P_VERSION } from 'libp2p/version'
import { IN_SINGLE_EXECUTABLE, PACKAGE_ROOT } from './package-files.ts'
import { PRODUCT_NAME, PRODUCT_VERSION } from './version.ts'

/** Set by builds and images that ship without .git (e.g. `HEARTBEAT_COMMIT=$(git rev-parse HEAD)`). */
export const COMMIT_ENV = 'HEARTBEAT_COMMIT'

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/

export interface BuildInfo {
  name: string
  version: string
  /** The git commit, when known. */
  commit: string | undefined
}

export interface RuntimeInfo {
  node: string
  libp2p: string
  platform: string
  arch: string
}

/** What this build is: from the environment when set, else from the checkout's .git, else unknown. */
export function buildInfo (env: NodeJS.ProcessEnv = process.env, root: string | undefined = IN_SINGLE_EXECUTABLE ? undefined : PACKAGE_ROOT): BuildInfo {
  const fromEnv = env[COMMIT_ENV]?.trim().toLowerCase()
  const commit = fromEnv !== undefined && fromEnv !== '' ? fromEnv : root === undefined ? undefined : readGitCommit(root)
  return { name: PRODUCT_NAME, version: PRODUCT_VERSION, commit }
}

export function runtimeInfo (): RuntimeInfo {
  return { node: process.version, libp2p: LIBP2P_VERSION, platform: process.platform, arch: process.arch }
}

/**
 * Reads HEAD's commit from a checkout without running git (images rarely have
 * it): follows a worktree's `.git` file, loose refs and packed-refs.
 * Anything unexpected means "unknown", never an error.
 */
export function readGitCommit (root: string): string | undefined {
  try {
    const gitDir = findGitDir(root)
    if (gitDir === undefined) return undefined
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim()
    if (COMMIT.test(head)) return head
    const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1]
    if (ref === undefined) return undefined
    const commonDir = readCommonDir(gitDir)
    for (const dir of [gitDir, commonDir]) {
      const loose = readOptional(join(dir, ref))?.trim()
      if (loose !== undefined && COMMIT.test(loose)) return loose
    }
    const packed = readOptional(join(commonDir, 'packed-refs'))
    for (const line of packed?.split('\n') ?? []) {
      const [sha, name] = line.trim().split(' ')
      if (name === ref && sha !== undefined && COMMIT.test(sha)) return sha
    }
    return undefined
  } catch {
    return undefined
  }
}

function findGitDir (root: string): string | undefined {
  const dotGit = join(root, '.git')
  const stat = statSync(dotGit, { throwIfNoEntry: false })
  if (stat === undefined) return undefined
  if (stat.isDirectory()) return dotGit
  const target = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim()
  if (target === undefined) return undefined
  return isAbsolute(target) ? target : resolve(root, target)
}

/** A worktree's git dir names the shared one in `commondir`. */
function readCommonDir (gitDir: string): string {
  const common = readOptional(join(gitDir, 'commondir'))?.trim()
  if (common === undefined || common === '') return gitDir
  return isAbsolute(common) ? common : resolve(gitDir, common)
}

function readOptional (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
