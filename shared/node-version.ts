// The installed programs' first check: libp2p 3 needs Node.js >= 22 (it calls
// Promise.withResolvers), and on an older Node it fails deep inside with a
// stack trace. This module runs before anything else is loaded, so it keeps to
// syntax and APIs every Node.js still in use has, and imports nothing (not even
// shared/cli.ts, whose commander may not load on an old Node).

/** Exit status of a start-up mistake, as shared/cli.ts's EXIT_USAGE. */
const EXIT_USAGE = 2

/** The oldest Node.js major version the package runs on (package.json "engines" says the same). */
export const MIN_NODE_MAJOR = 22

/** The one-line refusal for an older Node.js, or undefined when this one will do. */
export function unsupportedNodeMessage (program: string, version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1])
  if (major >= MIN_NODE_MAJOR) return undefined
  return `${program}: needs Node.js >= ${MIN_NODE_MAJOR} (found ${version}); install one with nvm (nvm install ${MIN_NODE_MAJOR}), ` +
    `from https://nodejs.org/en/download (prebuilt binaries), or run it once with npx -p node@${MIN_NODE_MAJOR} ${program} ...`
}

/** Exits with status 2 and one line on stderr when this Node.js is too old. */
export function exitUnlessSupportedNode (program: string): void {
  const message = unsupportedNodeMessage(program)
  if (message === undefined) return
  process.stderr.write(`${message}\n`)
  process.exit(EXIT_USAGE)
}
