// Reads height samples from GET /api/v1/nodes/:peerId/history (a later issue
// adds it). Its exact shape is not settled yet, so this takes the plain
// readings of it: a list of samples, or an object holding one under
// `heights`, `samples`, `points` or `history`; each sample has a height and a
// time (`at`, `time`, `t` or `timestamp`, ISO text or ms).
import { parseTime } from './format.ts'

export interface HeightPoint {
  time: number
  height: number
}

const LIST_KEYS = ['heights', 'samples', 'points', 'history'] as const
const TIME_KEYS = ['at', 'time', 't', 'timestamp'] as const

function sampleList (body: unknown): unknown[] {
  if (Array.isArray(body)) return body
  if (typeof body === 'object' && body !== null) {
    for (const key of LIST_KEYS) {
      const value = (body as Record<string, unknown>)[key]
      if (Array.isArray(value)) return value
    }
  }
  return []
}

function timeOf (sample: Record<string, unknown>): number {
  for (const key of TIME_KEYS) {
    const value = sample[key]
    if (typeof value === 'number') return value
    if (typeof value === 'string') return parseTime(value)
  }
  return Number.NaN
}

export function parseHeightHistory (body: unknown): HeightPoint[] {
  const points: HeightPoint[] = []
  for (const sample of sampleList(body)) {
    if (typeof sample !== 'object' || sample === null) continue
    const height = (sample as Record<string, unknown>).height
    const time = timeOf(sample as Record<string, unknown>)
    if (typeof height === 'number' && Number.isFinite(height) && Number.isFinite(time)) points.push({ time, height })
  }
  return points
}
