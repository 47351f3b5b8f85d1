// What Grafana does with a dashboard's Prometheus queries, done here so tests can run them against a
// real Prometheus without a Grafana: flatten the panels, resolve the template variables through the
// Prometheus API as Grafana's Prometheus data source does, and interpolate the selected values into
// each query with Grafana's escaping.
import { prometheusApi } from './prometheus.ts'

export interface DatasourceRef { type?: string, uid?: string }

export interface DashboardTarget {
  refId: string
  expr: string
  datasource?: DatasourceRef
  instant?: boolean
  range?: boolean
  format?: string
  legendFormat?: string
  hide?: boolean
}

export interface DashboardPanel {
  id: number
  type: string
  title: string
  gridPos: { x: number, y: number, w: number, h: number }
  datasource?: DatasourceRef
  targets?: DashboardTarget[]
  panels?: DashboardPanel[]
}

export interface TemplateVariable {
  type: string
  name: string
  query: string | { query: string }
  datasource?: DatasourceRef
  regex?: string
  multi?: boolean
  includeAll?: boolean
  allValue?: string | null
}

export interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  panels: DashboardPanel[]
  templating: { list: TemplateVariable[] }
}

/** Every panel, those inside collapsed rows included. */
export function allPanels (dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
}

/** A variable's query text, whichever of Grafana's two shapes it is stored in. */
export function variableQuery (v: TemplateVariable): string {
  return typeof v.query === 'string' ? v.query : v.query.query
}

/** One option of a query variable. */
export interface VariableOption { text: string, value: string }

/** A selection: one value, some values, or Grafana's "All". */
export type Selected = string | string[] | 'all'
export const ALL: Selected = 'all'

/** Grafana's built-in interval variables, for a Prometheus that scrapes every second (rate windows of 4+ scrapes). */
export const BUILT_INS: Record<string, string> = { __rate_interval: '5s', __interval: '1s', __range: '60s' }

/** Regex metacharacters, escaped as Grafana's Prometheus data source escapes them inside a PromQL string. */
function regexEscape (value: string): string {
  return value.replace(/[\\^$*+?.()|{}[\]]/g, '\\\\$&')
}

/**
 * A variable's selection as Grafana writes it into a query: a single-value
 * variable as itself (quotes and backslashes escaped), a multi-value one as
 * an escaped regex alternation, "All" as the allValue or every option.
 */
export function formatSelection (variable: TemplateVariable, selected: Selected, options: VariableOption[]): string {
  if (selected === 'all') {
    if (typeof variable.allValue === 'string' && variable.allValue !== '') return variable.allValue
    return formatSelection(variable, options.map((o) => o.value), options)
  }
  if (variable.multi !== true && variable.includeAll !== true) {
    const one = Array.isArray(selected) ? selected[0] as string : selected
    return one.replace(/\\/g, '\\\\').replace(/"/g, '\\"')
  }
  const values = (Array.isArray(selected) ? selected : [selected]).map(regexEscape)
  return values.length === 1 ? values[0] as string : `(${values.join('|')})`
}

/** Replaces `$name` and `${name}`; an unknown variable is an error (the dashboard would show it raw). */
export function interpolate (expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string
    const value = values[name] ?? BUILT_INS[name]
    if (value === undefined) throw new Error(`unknown variable ${match} in ${expr}`)
    return value
  })
}

/**
 * The options of a Prometheus query variable, as Grafana's Prometheus data
 * source computes them: label_values() through the label values API with a
 * match[] selector, query_result() through an instant query whose samples
 * become `name{label="value",...} value timestamp` texts; then the
 * variable's regex, whose named groups `text` and `value` pick each option.
 */
export async function variableOptions (prometheus: string, variable: TemplateVariable, values: Record<string, string>): Promise<VariableOption[]> {
  const text = interpolate(variableQuery(variable), values)
  let raw: string[]
  const labelValues = /^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$/.exec(text)
  const queryResult = /^query_result\((.+)\)\s*$/.exec(text)
  if (labelValues !== null) {
    const params: Record<string, string> = labelValues[1] !== undefined ? { 'match[]': labelValues[1] } : {}
    raw = await prometheusApi<string[]>(prometheus, `/api/v1/label/${labelValues[2] as string}/values`, params)
  } else if (queryResult !== null) {
    const data = await prometheusApi<{ result: Array<{ metric: Record<string, string>, value: [number, string] }> }>(prometheus, '/api/v1/query', { query: queryResult[1] as string })
    raw = data.result.map(({ metric, value }) => {
      const { __name__: name, ...labels } = metric
      return `${name ?? ''}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}} ${value[1]} ${value[0] * 1000}`
    })
  } else {
    throw new Error(`variable ${variable.name}: unsupported query ${text}`)
  }
  const pattern = parseRegex(variable.regex)
  const options: VariableOption[] = []
  for (const item of raw) {
    if (pattern === undefined) { options.push({ text: item, value: item }); continue }
    const m = pattern.exec(item)
    if (m === null) continue
    const groups = m.groups ?? {}
    const value = groups.value ?? groups.text ?? m[1] ?? m[0]
    options.push({ text: groups.text ?? value, value })
  }
  return options
}

/** Grafana stores a variable's regex as `/pattern/flags`. */
function parseRegex (regex: string | undefined): RegExp | undefined {
  if (regex === undefined || regex === '') return undefined
  const m = /^\/(.*)\/([a-z]*)$/.exec(regex)
  if (m === null) throw new Error(`variable regex is not /pattern/flags: ${regex}`)
  return new RegExp(m[1] as string, m[2])
}
