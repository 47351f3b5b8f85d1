// Summarises a V8 CPU profile (node --cpu-prof) over a time window: self time by
// function and by package. The profile's clock is CLOCK_MONOTONIC in µs, the same
// as process.hrtime() in the benchmark, which prints the window's bounds.
//
//   node bench/profile-window.ts FILE.cpuprofile [START_US END_US] [TOP]
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

const [file, startArg, endArg, topArg] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: node bench/profile-window.ts FILE.cpuprofile [START_US END_US] [TOP]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const start = startArg !== undefined ? Number(startArg) : profile.startTime
const end = endArg !== undefined ? Number(endArg) : profile.endTime
const top = Number(topArg ?? 40)
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
let t = profile.startTime
let total = 0
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  if (t < start || t > end) continue
  // A sample's weight is the gap to the next one (the last sample gets the previous gap).
  const weight = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i]!
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + weight)
  total += weight
}

function packageOf (url: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m !== null) return m[1]!
  if (url === '') return '(native/gc/idle)'
  if (url.startsWith('node:')) return 'node:*'
  return url.replace(/^file:\/\/.*?\/(aggregator|shared|agent|bench|test)\//, '$1/')
}

const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
for (const [id, us] of selfUs) {
  const node = byId.get(id)!
  const { functionName, url, lineNumber } = node.callFrame
  const key = `${functionName || '(anonymous)'} ${packageOf(url)}:${lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  const pkg = packageOf(url)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
}
const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`
process.stdout.write(`window ${(total / 1e6).toFixed(2)} s of samples\n\nby package:\n`)
for (const [k, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${pct(us)}  ${k}\n`)
process.stdout.write('\nby function (self):\n')
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${k}\n`)
