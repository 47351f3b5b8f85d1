import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url))
export const RESULTS_DIR = join(BENCH_DIR, 'results')

/** One benchmark's outcome: a table for people and the same figures as JSON. */
export interface BenchResult {
  name: string
  /** Parameters the run used (so the figures can be reproduced). */
  params: Record<string, unknown>
  rows: Array<Record<string, string | number>>
  /** Extra figures kept in the JSON only. */
  data?: Record<string, unknown>
  notes?: string[]
}

export interface BenchContext {
  /** The small version that runs inside npm test. */
  quick: boolean
  /** `--name value` pairs from the command line (without the dashes). */
  flags?: Record<string, string>
  log: (line: string) => void
}

export interface Benchmark {
  name: string
  description: string
  /** The flags it takes, for the usage text. */
  flags?: string
  run: (ctx: BenchContext) => Promise<BenchResult>
}

/** `name [name...] [--quick] [--flag value ...]`: a flag other than --quick needs a value. */
export function parseBenchArgs (args: string[]): { names: string[], quick: boolean, flags: Record<string, string> } {
  const names: string[] = []
  const flags: Record<string, string> = {}
  let quick = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--quick') quick = true
    else if (arg.startsWith('--') && arg.includes('=')) {
      // --flag=value: a value that itself starts with dashes (NODE_OPTIONS)
      const at = arg.indexOf('=')
      flags[arg.slice(2, at)] = arg.slice(at + 1)
    } else if (arg.startsWith('--')) {
      const value = args[i + 1]
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`)
      flags[arg.slice(2)] = value
      i++
    } else names.push(arg)
  }
  return { names, quick, flags }
}

export function machine (): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  }
}

export function printTable (rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '(no rows)\n'
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const cell = (v: unknown): string => typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v ?? '')
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (values: string[]): string => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`
  return [line(columns), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n') + '\n'
}

export function writeResult (result: BenchResult, quick: boolean): string {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${result.name}${quick ? '-quick' : ''}.json`)
  writeFileSync(file, JSON.stringify({ ...result, machine: machine(), date: new Date().toISOString(), quick }, null, 2))
  return file
}

/** p-th percentile (0..100) of a list of numbers, nearest-rank. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Resident memory of a process in MiB, from /proc (Linux). */
export function rssMiB (pid: number = process.pid): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
    return kb / 1024
  } catch {
    return NaN
  }
}

/** CPU time of a process in seconds, user and system apart, from /proc (Linux). */
export function cpuSplit (pid: number = process.pid): { user: number, system: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }
  } catch {
    return { user: NaN, system: NaN }
  }
}

/** CPU time (user + system) of a process in seconds, from /proc (Linux). */
export function cpuSeconds (pid: number = process.pid): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return ticks / 100
  } catch {
    return NaN
  }
}
