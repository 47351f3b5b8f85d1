// Reads GET endpoints of an aggregator in its own process (as other programs
// would: parsing and decompressing are not the aggregator's work) and times
// each answer from the request to its last byte, as it came over the wire
// (no decompression). Modes are read one after the other, `requests` each,
// `gapMs` apart; a conditional mode sends the last ETag back (If-None-Match).
// The very first request (the aggregator builds every node's view for it) is
// timed apart as `cold`. Prints READY, waits for GO, then prints
// RESULT {cold, modes: [{name, times, bytes, statuses}]}.
import { request } from 'node:http'
import { createInterface } from 'node:readline'

interface Mode { name: string, path: string, headers?: Record<string, string>, conditional?: boolean }
interface Args { url: string, modes: Mode[], requests: number, gapMs: number }

const { url, modes, requests, gapMs } = JSON.parse(process.argv[2] ?? '{}') as Args

function get (path: string, headers: Record<string, string>): Promise<{ status: number, bytes: number, etag: string | undefined, ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => { bytes += chunk.length })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, bytes, etag: res.headers.etag, ms: performance.now() - started }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const rl = createInterface({ input: process.stdin })
process.stdout.write('READY\n')
for await (const line of rl) {
  if (line !== 'GO') continue
  const cold = (await get('/api/v1/fleet', {})).ms
  const results: Array<{ name: string, times: number[], bytes: number[], statuses: number[] }> = []
  for (const mode of modes) {
    const result = { name: mode.name, times: [] as number[], bytes: [] as number[], statuses: [] as number[] }
    let etag: string | undefined
    for (let i = 0; i < requests; i++) {
      const headers = { ...mode.headers, ...(mode.conditional === true && etag !== undefined ? { 'if-none-match': etag } : {}) }
      const answer = await get(mode.path, headers)
      etag = answer.etag ?? etag
      result.times.push(answer.ms)
      result.bytes.push(answer.bytes)
      result.statuses.push(answer.status)
      await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
    results.push(result)
  }
  process.stdout.write(`RESULT ${JSON.stringify({ cold, modes: results })}\n`)
  break
}
process.exit(0)
