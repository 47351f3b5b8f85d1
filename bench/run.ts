// npm run bench -- <name> [--quick]: runs one benchmark (or `all`), prints a table, writes JSON to bench/results/.
import { type Benchmark, printTable, writeResult } from './harness.ts'
import { BENCHMARKS } from './index.ts'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const names = args.filter((a) => !a.startsWith('--'))
if (names.length === 0) {
  process.stderr.write(`usage: npm run bench -- <name>|all [--quick]\n\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join('\n')}\n`)
  process.exit(2)
}
const chosen: Benchmark[] = names.includes('all') ? BENCHMARKS : names.map((name) => {
  const found = BENCHMARKS.find((b) => b.name === name)
  if (found === undefined) {
    process.stderr.write(`unknown benchmark "${name}"; choose from: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`)
    process.exit(2)
  }
  return found
})
for (const bench of chosen) {
  const result = await bench.run({ quick, log: (line) => { process.stderr.write(`${line}\n`) } })
  process.stdout.write(`\n## ${bench.name}: ${bench.description}\n\n${printTable(result.rows)}`)
  for (const note of result.notes ?? []) process.stdout.write(`- ${note}\n`)
  process.stdout.write(`(JSON: ${writeResult(result, quick)})\n`)
}
process.exit(0)
