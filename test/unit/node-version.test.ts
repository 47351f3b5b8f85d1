import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { MIN_NODE_TEXT, unsupportedNodeMessage } from '../../shared/node-version.ts'

test('the installed programs refuse a Node.js older than 22.13 in one line that says how to get one', () => {
  for (const old of ['v20.20.2', 'v18.19.0', 'v22.12.0', 'v22.0.0', 'nonsense']) {
    const message = unsupportedNodeMessage('heartbeat-agent', old)
    assert.ok(message !== undefined, old)
    assert.equal(message, `heartbeat-agent: needs Node.js >= 22.13 (found ${old}); install one with nvm (nvm install 22), from https://nodejs.org/en/download (prebuilt binaries), or run it once with npx -p node@22 heartbeat-agent ...`)
  }
  for (const fine of ['v22.13.0', 'v22.23.3', 'v23.0.0', 'v24.9.0', 'v25.1.0']) assert.equal(unsupportedNodeMessage('heartbeat-agent', fine), undefined, fine)
})

test('package.json "engines" says the same minimum', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }
  assert.equal(pkg.engines.node, `>=${MIN_NODE_TEXT}`)
})
