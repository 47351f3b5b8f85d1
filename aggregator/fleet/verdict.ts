import type { NodeStatus } from './types.ts'

/**
 * The fleet in one line, worded so the count matches the words: "2 need
 * attention" counts every node that does (unhealthy, down, stale and
 * degraded), and the line under it breaks that number down by status. Pure;
 * shared by the fleet page's tile, the public status page and the fleet badge.
 */
export interface FleetVerdict {
  /** "✕ 2 need attention", "▲ 1 degraded", "✓ All healthy", "■ All stopped", "No nodes yet". */
  text: string
  /** The same without the glyph, lower case, for badges: "2 need attention". */
  words: string
  /** "1 unhealthy · 1 degraded · 3 stopped": the count above, by status (stopped nodes need no attention but are noted). */
  sub: string
  tone: 'ok' | 'warn' | 'bad' | 'off'
}

const count = new Intl.NumberFormat('en-US')

/** Statuses that need someone's attention, worst first; "stopped" was announced and needs none. */
const ATTENTION: readonly NodeStatus[] = ['unhealthy', 'down', 'stale', 'degraded']

export function fleetVerdict (byStatus: Readonly<Record<NodeStatus, number>>, total: number): FleetVerdict {
  const attention = ATTENTION.reduce((n, s) => n + (byStatus[s] ?? 0), 0)
  const failing = attention - (byStatus.degraded ?? 0)
  const parts = [...ATTENTION, 'stopped' as const].filter((s) => (byStatus[s] ?? 0) > 0).map((s) => `${count.format(byStatus[s])} ${s}`)
  if (total === 0) return { text: 'No nodes yet', words: 'no nodes', sub: '', tone: 'off' }
  if (failing > 0) {
    const words = `${count.format(attention)} need${attention === 1 ? 's' : ''} attention`
    return { text: `✕ ${words}`, words, sub: parts.join(' · '), tone: 'bad' }
  }
  if (attention > 0) {
    const words = `${count.format(attention)} degraded`
    return { text: `▲ ${words}`, words, sub: parts.filter((p) => !p.endsWith(' degraded')).join(' · '), tone: 'warn' }
  }
  if ((byStatus.healthy ?? 0) === 0) return { text: '■ All stopped', words: 'all stopped', sub: '', tone: 'off' }
  return { text: '✓ All healthy', words: 'all healthy', sub: parts.join(' · '), tone: 'ok' }
}
