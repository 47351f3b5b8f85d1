import { z } from 'zod'
import { type Clock, type Instant, instantOf } from '../../shared/clock.ts'
import type { AlertStateChange, LeaseFence, StoreBackend, StoredResolved, StoredWindow } from '../store/backend.ts'
import { ALERT_TEXT_REFRESH_MS, RESOLVED_MEMORY } from './constants.ts'
import type { AlertEngineState } from './engine.ts'
import type { MaintenanceScope } from './maintenance.ts'
import type { AlertRecord, MaintenanceWindow } from './types.ts'

/**
 * Alert state and maintenance windows in the store, so that no restart or
 * failover re-fires a firing alert, loses a resolve, or forgets a window
 * (docs/alerts.md). Only wall stamps are kept (another process reads
 * them, and a restart has a new monotonic origin): the engine keeps the wall
 * stamps of an alert's start and last announcement beside their monotonic
 * times and maps them back on load (AlertEngine.importState); a window keeps
 * its end as a wall time, mapped back here (MaintenanceStore.read).
 */

const subject = z.union([
  z.object({ kind: z.literal('node'), peerId: z.string(), nickname: z.string(), component: z.string().optional() }),
  z.object({ kind: z.literal('network'), network: z.string() }),
  z.object({ kind: z.literal('fleet') }),
])
const record = z.object({
  id: z.string().min(1),
  name: z.string(),
  severity: z.enum(['critical', 'warning', 'info']),
  labels: z.record(z.string(), z.string()),
  summary: z.string(),
  description: z.string(),
  subject,
  state: z.enum(['pending', 'firing', 'resolved']),
  activeSince: z.number(),
  firedAt: z.number().optional(),
  resolvedAt: z.number().optional(),
  silenced: z.boolean(),
})
const tracked = z.object({ record, announced: z.boolean(), lastAnnouncedAt: z.number().optional() })

function readRecord (body: string): AlertRecord | undefined {
  try {
    const parsed = record.safeParse(JSON.parse(body))
    return parsed.success ? toRecord(parsed.data) : undefined
  } catch {
    return undefined
  }
}

function toRecord (r: z.infer<typeof record>): AlertRecord {
  return { ...r, firedAt: r.firedAt, resolvedAt: r.resolvedAt }
}

/** What a tracked alert's row must say again when it changes (its text is refreshed less often). */
function lifecycleKey (t: AlertEngineState['tracked'][number]): string {
  const r = t.record
  return JSON.stringify([r.state, r.activeSince, r.firedAt ?? null, r.silenced, t.announced, t.lastAnnouncedAt ?? null])
}

/**
 * The engine's state, saved by difference: what changed since the last save
 * (a state change at once, a text change at most every
 * ALERT_TEXT_REFRESH_MS), what is gone, the newly resolved. Loads validate
 * every row; a damaged one is left out.
 */
export class AlertStateStore {
  private readonly backend: () => StoreBackend | undefined
  private readonly fence: () => LeaseFence | undefined
  private readonly clock: Clock
  /** What the store holds, as of the last save or load. */
  private saved = new Map<string, { key: string, text: string, atMono: number }>()
  private savedResolved = new Set<string>()

  constructor (options: { backend: () => StoreBackend | undefined, fence?: () => LeaseFence | undefined, clock: Clock }) {
    this.backend = options.backend
    this.fence = options.fence ?? (() => undefined)
    this.clock = options.clock
  }

  /** The stored state, or undefined while the store is not open. */
  async load (): Promise<AlertEngineState | undefined> {
    const backend = this.backend()
    if (backend === undefined) return undefined
    const { alerts, resolved } = await backend.loadAlerts()
    const state: AlertEngineState = { tracked: [], resolved: [] }
    const saved = new Map<string, { key: string, text: string, atMono: number }>()
    const mono = this.clock.monotonic()
    for (const row of alerts) {
      let parsed: z.infer<typeof tracked> | undefined
      try {
        const result = tracked.safeParse(JSON.parse(row.body))
        parsed = result.success ? result.data : undefined
      } catch {
        parsed = undefined
      }
      if (parsed === undefined || parsed.record.id !== row.id || parsed.record.state === 'resolved') continue
      const t = { record: toRecord(parsed.record), announced: parsed.announced, lastAnnouncedAt: parsed.lastAnnouncedAt }
      state.tracked.push(t)
      saved.set(row.id, { key: lifecycleKey(t), text: textOf(t.record), atMono: mono })
    }
    for (const row of resolved) {
      const r = readRecord(row.body)
      if (r !== undefined) state.resolved.push(r)
    }
    this.saved = saved
    this.savedResolved = new Set(resolved.map((r) => resolvedKey(r.id, r.at)))
    return state
  }

  /** What changed since the last save; undefined when nothing did. */
  diff (state: AlertEngineState): AlertStateChange | undefined {
    const mono = this.clock.monotonic()
    const upserts: AlertStateChange['upserts'] = []
    const seen = new Set<string>()
    for (const t of state.tracked) {
      seen.add(t.record.id)
      const before = this.saved.get(t.record.id)
      const key = lifecycleKey(t)
      const text = textOf(t.record)
      if (before !== undefined && before.key === key && (before.text === text || mono - before.atMono < ALERT_TEXT_REFRESH_MS)) continue
      upserts.push({ id: t.record.id, body: JSON.stringify({ record: t.record, announced: t.announced, lastAnnouncedAt: t.lastAnnouncedAt }) })
    }
    const deletes = [...this.saved.keys()].filter((id) => !seen.has(id))
    const resolved: StoredResolved[] = state.resolved
      .filter((r) => !this.savedResolved.has(resolvedKey(r.id, r.resolvedAt ?? 0)))
      .map((r) => ({ id: r.id, at: r.resolvedAt ?? 0, body: JSON.stringify(r) }))
    if (upserts.length === 0 && deletes.length === 0 && resolved.length === 0) return undefined
    return { upserts, deletes, resolved, keepResolved: RESOLVED_MEMORY, at: this.clock.wall() }
  }

  /**
   * Saves what changed (fenced by the alerting lease on a shared store).
   * Rejects when the store is not open or refuses; the next save carries
   * everything still unsaved.
   */
  async save (state: AlertEngineState): Promise<void> {
    const change = this.diff(state)
    if (change === undefined) return
    const backend = this.backend()
    if (backend === undefined) throw new Error('the store is not open')
    await backend.saveAlerts(change, this.fence())
    const mono = this.clock.monotonic()
    const byId = new Map(state.tracked.map((t) => [t.record.id, t]))
    for (const u of change.upserts) {
      const t = byId.get(u.id)
      if (t !== undefined) this.saved.set(u.id, { key: lifecycleKey(t), text: textOf(t.record), atMono: mono })
    }
    for (const id of change.deletes) this.saved.delete(id)
    for (const r of change.resolved) this.savedResolved.add(resolvedKey(r.id, r.at))
    // Only what the engine still remembers needs remembering here.
    if (this.savedResolved.size > 4 * RESOLVED_MEMORY) this.savedResolved = new Set(state.resolved.map((r) => resolvedKey(r.id, r.resolvedAt ?? 0)))
  }
}

function textOf (r: AlertRecord): string {
  return `${r.summary}\u0000${r.description}`
}

function resolvedKey (id: string, at: number): string {
  return `${id}@${at}`
}

/** A scope as the store names it. */
export function scopeKey (scope: MaintenanceScope): string {
  return 'fleet' in scope ? 'fleet' : `node:${scope.peerId}`
}

export function scopeOf (key: string): MaintenanceScope | undefined {
  if (key === 'fleet') return { fleet: true }
  return key.startsWith('node:') && key.length > 5 ? { peerId: key.slice(5) } : undefined
}

/**
 * Operators' maintenance windows in the store, shared by every aggregator:
 * a window started or ended on one is saved (retried until it lands) and
 * read by all, the newest `setAt` winning per scope, so a restart or a
 * failover keeps every window in force.
 */
export class MaintenanceStore {
  private readonly backend: () => StoreBackend | undefined
  private readonly clock: Clock
  private readonly pending = new Map<string, StoredWindow>()
  /** The newest setAt known per scope (ours or read). */
  private readonly known = new Map<string, number>()
  private saving: Promise<void> | undefined

  constructor (options: { backend: () => StoreBackend | undefined, clock: Clock }) {
    this.backend = options.backend
    this.clock = options.clock
  }

  /**
   * An operator's change here, to be saved. Its `setAt` is the wall clock,
   * but never at or before the newest change known for the scope: an
   * operator's latest word wins even on a wall clock stepped back.
   */
  changed (scope: MaintenanceScope, window: MaintenanceWindow | undefined, now: Instant): void {
    const key = scopeKey(scope)
    const setAt = Math.max(now.wall, (this.known.get(key) ?? Number.NEGATIVE_INFINITY) + 1)
    const stored: StoredWindow = window === undefined
      ? { scope: key, until: now.wall, reason: '', since: undefined, setAt, ended: true }
      : { scope: key, until: window.until, reason: window.reason, since: window.since, setAt, ended: false }
    this.pending.set(key, stored)
    this.known.set(key, setAt)
  }

  /** Saves what is pending; rejects (keeping it pending) when the store refuses. */
  async flush (): Promise<void> {
    if (this.saving !== undefined) return await this.saving
    const backend = this.backend()
    if (backend === undefined || this.pending.size === 0) return
    const batch = [...this.pending.values()]
    this.saving = (async () => {
      await backend.saveMaintenance(batch)
      for (const w of batch) if (this.pending.get(w.scope) === w) this.pending.delete(w.scope)
    })()
    try { await this.saving } finally { this.saving = undefined }
  }

  /**
   * The stored windows newer than what this aggregator knows (and not
   * overtaken by a change of its own still unsaved): `window` undefined for
   * one that ended. A window's end is kept as a wall time; it is placed on
   * this process's monotonic clock when read (what is left of it by the
   * wall clock now), once per change, so a wall step afterwards neither
   * shortens nor stretches it.
   */
  async read (): Promise<Array<{ scope: MaintenanceScope, window: MaintenanceWindow | undefined }>> {
    const backend = this.backend()
    if (backend === undefined) return []
    const stored = await backend.loadMaintenance()
    const now = instantOf(this.clock)
    const out: Array<{ scope: MaintenanceScope, window: MaintenanceWindow | undefined }> = []
    for (const w of stored) {
      const scope = scopeOf(w.scope)
      if (scope === undefined || w.setAt <= (this.known.get(w.scope) ?? -1)) continue
      this.known.set(w.scope, w.setAt)
      const untilMono = w.until === undefined ? undefined : now.mono + (w.until - now.wall)
      out.push({ scope, window: w.ended ? undefined : { until: w.until, untilMono, reason: w.reason, source: 'admin', since: w.since } })
    }
    return out
  }

  get pendingCount (): number {
    return this.pending.size
  }
}
