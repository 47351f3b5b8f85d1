import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { buildInfo, readGitCommit } from '../../shared/build-info.ts'
import { REDACTED, redactConfig } from '../../shared/config-redaction.ts'
import { sanitizeLabelValue } from '../../shared/metric-labels.ts'
import { PRODUCT_VERSION } from '../../shared/version.ts'
import { tempDir } from '../support/processes.ts'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)

describe('build info', () => {
  it('takes the commit from HEARTBEAT_COMMIT first', () => {
    const info = buildInfo({ HEARTBEAT_COMMIT: ` ${B.toUpperCase()} ` }, tempDir())
    assert.deepEqual(info, { name: 'fil-heartbeat', version: PRODUCT_VERSION, commit: B })
  })

  it('reads a loose ref, a packed ref and a detached HEAD; unknown without .git', () => {
    const root = tempDir()
    assert.equal(readGitCommit(root), undefined)
    mkdirSync(join(root, '.git', 'refs', 'heads'), { recursive: true })
    writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n')
    assert.equal(readGitCommit(root), undefined, 'a ref that does not exist yet')
    writeFileSync(join(root, '.git', 'packed-refs'), `# pack-refs with: peeled\n${B} refs/heads/main\n`)
    assert.equal(readGitCommit(root), B)
    writeFileSync(join(root, '.git', 'refs', 'heads', 'main'), `${A}\n`)
    assert.equal(readGitCommit(root), A, 'a loose ref wins over the packed one')
    writeFileSync(join(root, '.git', 'HEAD'), `${B}\n`)
    assert.equal(readGitCommit(root), B)
    writeFileSync(join(root, '.git', 'HEAD'), 'garbage\n')
    assert.equal(readGitCommit(root), undefined)
  })

  it('follows a worktree .git file to its git dir and the common dir', () => {
    const main = tempDir()
    const wt = join(main, '.git', 'worktrees', 'wt')
    mkdirSync(wt, { recursive: true })
    mkdirSync(join(main, '.git', 'refs', 'heads'), { recursive: true })
    writeFileSync(join(wt, 'HEAD'), 'ref: refs/heads/feature\n')
    writeFileSync(join(wt, 'commondir'), '../..\n')
    writeFileSync(join(main, '.git', 'refs', 'heads', 'feature'), `${A}\n`)
    const checkout = tempDir()
    writeFileSync(join(checkout, '.git'), `gitdir: ${wt}\n`)
    assert.equal(readGitCommit(checkout), A)
  })
})

describe('effective configuration', () => {
  it('redacts secrets by key name and URL credentials; drops functions and class instances', () => {
    class Key { secretBytes = 'x' }
    const config = {
      listen: ['/ip4/0.0.0.0/tcp/4100'],
      http: { host: '127.0.0.1', port: 8080 },
      privateKey: new Key(),
      alerts: { webhookUrl: 'https://hooks.example/T000/B000/XXXX', slackToken: 'xoxb-1', smtpPassword: 'hunter2', to: 'ops@example.org' },
      store: 'postgres://user:pw@db:5432/x',
      apiKey: 'k',
      keyFile: '/etc/heartbeat/agent.key',
      logger: { info: () => {} },
      now: () => 1,
      statusRules: { staleAfterPeriods: 3 },
    }
    assert.deepEqual(redactConfig(config), {
      listen: ['/ip4/0.0.0.0/tcp/4100'],
      http: { host: '127.0.0.1', port: 8080 },
      privateKey: REDACTED,
      alerts: { webhookUrl: REDACTED, slackToken: REDACTED, smtpPassword: REDACTED, to: 'ops@example.org' },
      store: `postgres://${REDACTED}@db:5432/x`,
      apiKey: REDACTED,
      keyFile: '/etc/heartbeat/agent.key',
      logger: {},
      statusRules: { staleAfterPeriods: 3 },
    })
  })
})

describe('label values', () => {
  it('are bounded and made of safe characters', () => {
    assert.equal(sanitizeLabelValue('lotus-alpha 1'), 'lotus-alpha 1')
    assert.equal(sanitizeLabelValue('a"b\\c\nd{e}<f>'), 'a_b_c_d_e__f_')
    assert.equal(sanitizeLabelValue('x'.repeat(500)).length, 64)
    assert.equal(sanitizeLabelValue('é'), '_')
  })
})
