import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './processes.ts'

/** Debian's libfaketime (package libfaketime, installed with faketime: scripts/system-deps.ts), for this machine's architecture. */
export function libfaketime (): string {
  for (const dir of readdirSync('/usr/lib')) {
    const path = join('/usr/lib', dir, 'faketime', 'libfaketime.so.1')
    if (existsSync(path)) return path
  }
  throw new Error('libfaketime.so.1 not found under /usr/lib/*/faketime: apt-get install faketime')
}

/**
 * A wall clock a test can step, for one executable, as NTP steps a clock
 * that ran ahead: the program runs under libfaketime with its offset read
 * from a file on every call (FAKETIME_TIMESTAMP_FILE + FAKETIME_NO_CACHE)
 * and the monotonic clock left real (FAKETIME_DONT_FAKE_MONOTONIC=1), so
 * only Date.now() and friends move.
 */
export class SteppedWallClock {
  readonly file = join(tempDir('hb-faketime-'), 'faketime.rc')

  constructor () {
    this.set(0)
  }

  /** The environment to start the program with. */
  get env (): NodeJS.ProcessEnv {
    return {
      LD_PRELOAD: libfaketime(),
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    }
  }

  /** From now on the program's wall clock reads real time + `offsetSeconds`. */
  set (offsetSeconds: number): void {
    // Written aside and renamed: the program re-reads the file on every clock call and must never see it half written.
    const next = `${this.file}.next`
    writeFileSync(next, `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}\n`)
    renameSync(next, this.file)
  }
}
