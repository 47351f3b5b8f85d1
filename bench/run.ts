// npm run bench -- <name> [--quick] [--flag value ...]: runs one benchmark (or `all`), prints a table,
// writes JSON to bench/results/. Flags other than --quick go to the benchmark (e.g. fleet-size --agents 10000).
import { type Benchmark, parseBenchArgs, printTable, writeResult } from './harness.ts'
import { BENCHMARKS } from './index.ts'
import { UsageError } from '../shared/errors.ts'

let parsed: ReturnType<typeof parseBenchArgs>
try {
  parsed = parseBenchArgs(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(2)
}
const { names, quick, flags } = parsed
if (names.length === 0) {
  process.stderr.write(`usage: npm run bench -- <name>|all [--quick] [--flag value ...]\n\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}${b.flags !== undefined ? `\n${' '.repeat(15)}${b.flags}` : ''}`).join('\n')}\n`)
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
  let result
  try {
    result = await bench.run({ quick, flags, log: (line) => { process.stderr.write(`${line}\n`) } })
  } catch (err) {
    // A bad flag is one line and exit 2; anything else is a real failure, with its stack.
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${bench.name}: ${err.message}\n`)
    process.exit(2)
  }
  process.stdout.write(`\n## ${bench.name}: ${bench.description}\n\n${printTable(result.rows)}`)
  for (const note of result.notes ?? []) process.stdout.write(`- ${note}\n`)
  process.stdout.write(`(JSON: ${writeResult(result, quick)})\n`)
}
process.exit(0)
