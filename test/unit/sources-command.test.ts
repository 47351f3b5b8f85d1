import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCodes } from '../../shared/errors.ts'
import { parseCommandOutput } from '../../agent/sources/command.ts'

describe('command source output', () => {
  it('accepts the documented object', () => {
    const reading = parseCommandOutput(JSON.stringify({
      head: '{ bafyhead }', height: 42, minerAddress: 'f01234', network: 'calibnet',
      components: { market: { status: 'affected', details: { deals: 0 } } },
    }) + '\n')
    assert.deepEqual(reading, {
      head: '{ bafyhead }', height: 42, minerAddress: 'f01234', network: 'calibnet',
      components: { market: { status: 'affected', details: { deals: 0 } } },
    })
    assert.deepEqual(parseCommandOutput('{"head":"h","height":0}'), { head: 'h', height: 0 })
  })

  const refused: Array<[string, string, RegExp]> = [
    ['nothing', '  \n', /printed nothing/],
    ['not JSON', 'head=abc height=1', /not JSON/],
    ['no height', '{"head":"h"}', /height/],
    ['a fractional height', '{"head":"h","height":1.5}', /height/],
    ['a negative height', '{"head":"h","height":-1}', /height/],
    ['an empty head', '{"head":"","height":1}', /head/],
    ['an unknown field', '{"head":"h","height":1,"hieght":2}', /hieght/],
    ['an unknown status', '{"head":"h","height":1,"components":{"x":{"status":"ok"}}}', /components\.x\.status/],
    ['the reserved chain_source', '{"head":"h","height":1,"components":{"chain_source":{"status":"ready"}}}', /chain_source/],
    ['huge details', JSON.stringify({ head: 'h', height: 1, components: { x: { status: 'ready', details: 'y'.repeat(5000) } } }), /details/],
    ['an array', '[1,2]', /expected object/],
  ]
  for (const [what, text, message] of refused) {
    it(`refuses ${what} with a clear error`, () => {
      assert.throws(() => parseCommandOutput(text), (err: { code?: string, message: string }) => {
        assert.equal(err.code, ErrorCodes.BAD_ANSWER)
        assert.match(err.message, message)
        return true
      })
    })
  }
})
