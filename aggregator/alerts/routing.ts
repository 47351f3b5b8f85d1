import { z } from 'zod'
import { DEFAULT_QUIET_EXCEPT } from './constants.ts'
import { type AlertRecord, SEVERITIES, type Severity } from './types.ts'

/**
 * Which notifications go to which receiver, and when a receiver keeps
 * quiet. Pure: the rules file's `route` and `quietHours` of one receiver
 * entry, and the decisions made from them.
 */

/** A receiver's `route`: every condition given must hold (a list holds when any of its values does). */
export interface Route {
  /** Rule names (alertname). */
  rules?: string[] | undefined
  severities?: Severity[] | undefined
  /** Labels the alert must carry with exactly these values (team, peer_id, network...). */
  labels?: Record<string, string> | undefined
}

/** Quiet hours of a receiver: local times in a named time zone, and the severities that still get through. */
export interface QuietHours {
  /** Minutes after local midnight when quiet begins. */
  from: number
  /** Minutes after local midnight when it ends (before `from`: the quiet runs over midnight). */
  to: number
  /** An IANA time zone (Europe/Berlin, UTC). */
  timezone: string
  /** Severities that are sent even in quiet hours. */
  except: Severity[]
}

/**
 * Whether a notification about `alert` goes to a receiver with this route.
 * A notification that holds back other alerts (inhibition.ts) stands for them
 * too: a route for `critical` takes a NodeUnhealthy (warning) that holds back
 * a ComponentPanicked (critical), or the panicked component would reach nobody.
 */
export function routeMatches (route: Route | undefined, alert: AlertRecord, holdsBack: readonly AlertRecord[] = []): boolean {
  if (route === undefined) return true
  return [alert, ...holdsBack].some((a) => matchesOne(route, a))
}

function matchesOne (route: Route, a: AlertRecord): boolean {
  if (route.rules !== undefined && !route.rules.includes(a.name)) return false
  if (route.severities !== undefined && !route.severities.includes(a.severity)) return false
  if (route.labels !== undefined) {
    for (const [name, value] of Object.entries(route.labels)) if (a.labels[name] !== value) return false
  }
  return true
}

/** Reads the local time of day in a time zone, with one Intl formatter made once. */
export class LocalClock {
  private readonly format: Intl.DateTimeFormat

  /** Throws RangeError for an unknown time zone. */
  constructor (timezone: string) {
    this.format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  }

  /** Minutes after local midnight at wall time `ms`. */
  minutesOfDay (ms: number): number {
    let hour = 0
    let minute = 0
    for (const part of this.format.formatToParts(ms)) {
      if (part.type === 'hour') hour = Number(part.value)
      if (part.type === 'minute') minute = Number(part.value)
    }
    return (hour % 24) * 60 + minute
  }
}

/** Whether `minutes` (of the local day) fall in the quiet window [from, to), which may run over midnight. */
export function isQuietAt (quiet: Pick<QuietHours, 'from' | 'to'>, minutes: number): boolean {
  if (quiet.from < quiet.to) return minutes >= quiet.from && minutes < quiet.to
  return minutes >= quiet.from || minutes < quiet.to
}

/** Whether quiet hours hold this severity back. */
export function heldInQuiet (quiet: QuietHours, severity: Severity): boolean {
  return !quiet.except.includes(severity)
}

/** A rules-file time of day, "22:00", as minutes after midnight. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time of day such as 22:00 or 07:30').transform((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5)))

const timezone = z.string().min(1).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz }).format(0)
    return true
  } catch {
    return false
  }
}, { message: 'not a time zone this Node knows (use an IANA name such as Europe/Berlin or UTC)' })

export const routeSchema = z.strictObject({
  rules: z.array(z.string().min(1)).min(1).optional(),
  severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
  labels: z.record(z.string().min(1), z.string()).optional(),
})

export const quietHoursSchema = z.strictObject({
  from: timeOfDay,
  to: timeOfDay,
  timezone,
  except: z.array(z.enum(SEVERITIES)).optional(),
}).refine((q) => q.from !== q.to, { message: 'from and to must differ' })
  .transform((q): QuietHours => ({ from: q.from, to: q.to, timezone: q.timezone, except: q.except ?? [...DEFAULT_QUIET_EXCEPT] }))
