import type { Logger } from '../../../shared/log.ts'
import type { AlertNotification } from '../types.ts'
import type { AlertReceiver, ReceiverStats } from './receiver.ts'

/** Every notification as a log line: WARN when firing, INFO when resolved. Always on. */
export class LogReceiver implements AlertReceiver {
  readonly kind = 'log' as const
  readonly name = 'log'
  readonly target = 'log'
  private readonly log: Logger
  private sent = 0

  constructor (logger: Logger) {
    this.log = logger
  }

  notify (n: AlertNotification): void {
    const a = n.alert
    const fields: Record<string, unknown> = { alert: a.name, alertId: a.id, severity: a.severity, status: n.status, repeat: n.repeat, labels: a.labels }
    // One cause, one notification: what this alert holds back is said here too, not logged apart.
    if (n.holdsBack !== undefined && n.holdsBack.length > 0) fields.holdsBack = n.holdsBack.map((h) => h.id)
    if (n.status === 'firing') this.log.warn(fields, `alert firing: ${a.name}: ${a.summary}`)
    else this.log.info(fields, `alert resolved: ${a.name}: ${a.summary}`)
    this.sent++
  }

  stats (): ReceiverStats {
    return { sent: this.sent, failed: 0, dropped: 0, retries: 0, queued: 0 }
  }

  async stop (): Promise<void> {}
}
