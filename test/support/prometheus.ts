import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PROMETHEUS, get } from './health.ts'
import { freePort } from './ports.ts'
import { tempDir } from './processes.ts'
import { waitFor } from './wait.ts'

export interface RunningPrometheus {
  url: string
  stop: () => Promise<void>
}

/** A sample of an instant query: its labels and value. */
export interface InstantSample { metric: Record<string, string>, value: number }
/** A series of a range query: its labels and values. */
export interface RangeSeries { metric: Record<string, string>, values: Array<[number, string]> }

/** host:port of a URL, as a scrape target. */
export const hostPort = (url: string): string => new URL(url).host

/**
 * A real Prometheus from Debian's package, on loopback, scraping every
 * second into a temp dir (job name -> target host:port), evaluating the
 * given rule files every second.
 */
export async function startPrometheus (targets: Record<string, string>, options: { ruleFiles?: string[] } = {}): Promise<RunningPrometheus> {
  const dir = tempDir('hb-prom-')
  const jobs = Object.entries(targets).map(([job, target]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`).join('')
  const rules = (options.ruleFiles ?? []).map((f) => `  - '${f}'\n`).join('')
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n${rules !== '' ? `rule_files:\n${rules}` : ''}scrape_configs:\n${jobs}`)
  const port = await freePort()
  const proc = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise((resolve) => { proc.on('exit', resolve) })
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGTERM')
    const timer = setTimeout(() => { proc.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(timer)
  }
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(async () => proc.exitCode === null && (await get(`${url}/-/ready`)).status === 200, { what: `Prometheus to be ready (stderr: ${stderr.slice(-500)})`, timeoutMs: 60_000, intervalMs: 250 })
  } catch (err) {
    await stop()
    throw err
  }
  return { url, stop }
}

/** One call of Prometheus' HTTP API; asserts `status: success` and returns `data`. */
export async function prometheusApi<T> (prometheus: string, path: string, params: Record<string, string> = {}): Promise<T> {
  const answer = await get(`${prometheus}${path}?${new URLSearchParams(params).toString()}`)
  const body = JSON.parse(answer.text) as { status: string, data: T }
  assert.equal(body.status, 'success', `${path} ${JSON.stringify(params)}: ${answer.text}`)
  return body.data
}

/** Instant query through Prometheus' HTTP API: one value per series. */
export async function query (prometheus: string, promql: string): Promise<InstantSample[]> {
  const data = await prometheusApi<{ result: Array<{ metric: Record<string, string>, value: [number, string] }> }>(prometheus, '/api/v1/query', { query: promql })
  return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
}

/** Range query (what a Grafana time series panel sends) over the last `seconds`, one point per `stepSeconds`. */
export async function queryRange (prometheus: string, promql: string, seconds: number, stepSeconds = 1): Promise<RangeSeries[]> {
  const end = Date.now() / 1000
  const data = await prometheusApi<{ resultType: string, result: RangeSeries[] }>(prometheus, '/api/v1/query_range', {
    query: promql, start: String(end - seconds), end: String(end), step: String(stepSeconds),
  })
  assert.equal(data.resultType, 'matrix')
  return data.result
}
