import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { changedKeys, deltaOf, HEALTH_DETAILS_ONLY, mergeChange, sameValue } from '../../aggregator/http/view-delta.ts'

describe('view deltas', () => {
  it('compares JSON values deeply, key order ignored, undefined as absent', () => {
    assert.equal(sameValue({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), true)
    assert.equal(sameValue({ a: 1, b: undefined }, { a: 1 }), true)
    assert.equal(sameValue({ a: 1 }, { a: 1, b: 2 }), false)
    assert.equal(sameValue([1, 2], [2, 1]), false)
    assert.equal(sameValue([], {}), false)
    assert.equal(sameValue(null, {}), false)
    assert.equal(sameValue(null, null), true)
    assert.equal(sameValue('1', 1), false)
  })

  it('names the top-level fields that changed, or says the view must go whole when one is gone', () => {
    const before = { peerId: 'p', height: 1, health: { status: 'ready', components: { a: { status: 'ready' } } }, remoteAddr: '/ip4/1.2.3.4' }
    assert.deepEqual([...changedKeys(before, { ...before, health: { status: 'ready', components: { a: { status: 'ready' } } } }) as Set<string>], [])
    assert.deepEqual([...changedKeys(before, { ...before, height: 2, extra: true }) as Set<string>].sort(), ['extra', 'height'])
    assert.equal(changedKeys(before, { ...before, remoteAddr: undefined }), 'full')
  })

  it('merges the changes of one node between flushes: removal and whole views win, fields add up', () => {
    assert.deepEqual([...mergeChange(new Set(['a']), new Set(['b'])) as Set<string>].sort(), ['a', 'b'])
    assert.equal(mergeChange(new Set(['a']), 'removed'), 'removed')
    assert.equal(mergeChange('removed', 'full'), 'full', 'removed, then back: sent whole')
    assert.equal(mergeChange('full', new Set(['a'])), 'full')
    assert.deepEqual([...mergeChange(undefined, new Set(['a'])) as Set<string>], ['a'])
  })

  it('sends component details only to whom sees them', () => {
    const view = { peerId: 'p', height: 2, health: { status: 'ready', components: {} }, remoteAddr: undefined }
    assert.deepEqual(deltaOf(view, new Set(['height', HEALTH_DETAILS_ONLY]), false), { peerId: 'p', height: 2 })
    assert.deepEqual(deltaOf(view, new Set(['height', HEALTH_DETAILS_ONLY]), true), { peerId: 'p', height: 2, health: view.health })
    assert.deepEqual(deltaOf(view, new Set(['remoteAddr']), false), { peerId: 'p' }, 'a field the exposed view lacks is left out')
  })
})
