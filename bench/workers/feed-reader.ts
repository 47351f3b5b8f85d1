// Opens N live-feed clients (?delta=1 as the page reads it, or ?batch=1 as
// older pages did) and measures, per node change received, the delay from its
// fold (lastSeen, same clock) to now. Prints READY once every client has its
// snapshot; on stdin end prints RESULT {views, delays (sampled), bytes after the
// snapshots, droppedByServer, gaps (delta ids that skipped)}.
import { createInterface } from 'node:readline'

const { url, clients, shape = 'delta' } = JSON.parse(process.argv[2] ?? '{}') as { url: string, clients: number, shape?: 'delta' | 'batch' }
const controller = new AbortController()
const delays: number[] = []
let views = 0
let snapshots = 0
let ended = 0
let bytes = 0
let gaps = 0

async function follow (): Promise<void> {
  const res = await fetch(`${url}/api/v1/events?${shape}=1`, { signal: controller.signal })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let lastId: number | undefined
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      bytes += value.length
      // Look for an event's end only in what is new: a 10 MB snapshot arrives in many chunks.
      const from = Math.max(0, buffer.length - 1)
      buffer += value
      let cut = buffer.indexOf('\n\n', from)
      while (cut >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        cut = buffer.indexOf('\n\n')
        const id = /^id: (\d+)$/m.exec(block.slice(0, 64))?.[1]
        if (block.startsWith('event: snapshot')) {
          // What follows the snapshot is what the feed costs to follow.
          bytes -= block.length + 2
          snapshots++
          if (id !== undefined) lastId = Number(id)
          continue
        }
        if (!block.startsWith('event: nodes') && !block.startsWith('event: delta')) continue
        if (id !== undefined) {
          if (lastId !== undefined && Number(id) !== lastId + 1) gaps++
          lastId = Number(id)
        }
        const now = Date.now()
        // lastSeen of each view, without parsing the whole batch.
        for (const m of block.matchAll(/"lastSeen":"([^"]+)"/g)) {
          views++
          if (views % 97 === 0) delays.push(now - Date.parse(m[1]!))
        }
      }
    }
  } catch { /* aborted */ }
  ended++
}

const all = Array.from({ length: clients }, follow)
// Every client has its snapshot, or was refused or dropped by the server (counted below).
while (snapshots + ended < clients) await new Promise((resolve) => setTimeout(resolve, 20))
process.stdout.write('READY\n')
const rl = createInterface({ input: process.stdin })
rl.on('close', () => {
  const droppedByServer = ended
  controller.abort()
  void Promise.all(all).then(() => {
    process.stdout.write(`RESULT ${JSON.stringify({ views, delays, droppedByServer, bytes, gaps })}\n`)
    process.exit(0)
  })
})
