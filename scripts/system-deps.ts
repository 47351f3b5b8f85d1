// Tests that need a real browser, Prometheus or Alertmanager use Debian's
// packages. This installs the missing ones (apt-get, as root or via sudo) so
// that `npm test` works on a fresh machine with no other step.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** binary that must exist -> Debian package that provides it */
export const SYSTEM_PACKAGES: Record<string, string> = {
  // test/integration/metrics.test.ts pipes /metrics through promtool; test/e2e/prometheus.test.ts and
  // grafana-dashboard.test.ts scrape with a real server; prometheus-rules.test.ts runs promtool check/test rules.
  '/usr/bin/promtool': 'prometheus',
  '/usr/bin/prometheus': 'prometheus',
  // test/integration/alert-receivers.test.ts, test/e2e/alerts.test.ts: a real Alertmanager
  '/usr/bin/prometheus-alertmanager': 'prometheus-alertmanager',
  // test/e2e/deployment-files.test.ts: validates docker-compose.yml (no engine needed), the demo's
  // Alertmanager config (amtool, from prometheus-alertmanager), its Prometheus config, the systemd units
  '/usr/bin/docker-compose': 'docker-compose',
  '/usr/bin/amtool': 'prometheus-alertmanager',
  '/usr/bin/systemd-analyze': 'systemd',
  // The fleet page's end-to-end tests (test/e2e/page-*.test.ts) drive it with playwright-core.
  '/usr/bin/chromium': 'chromium',
  // The shared store's tests (test/support/postgres.ts: initdb + pg_ctl in a temporary directory, one server
  // per test file): the store suite on PostgreSQL, test/integration/shared-store*.test.ts, test/e2e/shared-store.test.ts.
  '/usr/lib/postgresql/15/bin/postgres': 'postgresql',
  // test/e2e/store-faults.test.ts holds a write lock on the SQLite store with Debian's sqlite3 CLI.
  '/usr/bin/sqlite3': 'sqlite3',
  // test/support/fakes/smtp.ts: the SMTP sink's self-signed certificate (STARTTLS) is made with openssl.
  '/usr/bin/openssl': 'openssl',
  // test/e2e/agent-clock-step.test.ts and aggregator-clock-step.test.ts step a program's wall clock with
  // libfaketime (LD_PRELOAD, test/support/faketime.ts); the
  // faketime package brings the library (libfaketime) with it.
  '/usr/bin/faketime': 'faketime',
}

export function ensureSystemPackages (packages: Record<string, string> = SYSTEM_PACKAGES): void {
  const missing = Object.entries(packages).filter(([binary]) => !existsSync(binary)).map(([, pkg]) => pkg)
  if (missing.length === 0) return
  const unique = [...new Set(missing)]
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n']
  console.log(`installing Debian packages for the tests: ${unique.join(' ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const update = spawnSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length > 0 ? ['apt-get'] : []), 'update', '-qq'], { stdio: 'inherit', env })
  const install = spawnSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length > 0 ? ['apt-get'] : []), 'install', '-y', '-qq', '--no-install-recommends', ...unique], { stdio: 'inherit', env })
  if (update.status !== 0 || install.status !== 0) {
    console.error(`could not install ${unique.join(' ')}: install them with apt-get (as root) and run the tests again`)
    process.exit(1)
  }
}
