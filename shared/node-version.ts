// The installed programs' first check. They need Node.js >= 22.13: libp2p 3
// calls Promise.withResolvers (22), commander 15 wants 22.12, and the
// aggregator's store is node:sqlite, unflagged since 22.13. On an older Node
// they would fail deep inside with a stack trace. This module runs before
// anything else is loaded, so it keeps to syntax and APIs every Node.js still
// in use has, and imports nothing (not even shared/cli.ts, whose commander may
// not load on an old Node).

/** The oldest Node.js the package runs on (package.json "engines" says the same). */
export const MIN_NODE = { major: 22, minor: 13 } as const
export const MIN_NODE_TEXT = `${MIN_NODE.major}.${MIN_NODE.minor}`

/** Exit status of a start-up mistake, as shared/cli.ts's EXIT_USAGE. */
const EXIT_USAGE = 2

/** The one-line refusal for an older Node.js, or undefined when this one will do. */
export function unsupportedNodeMessage (program: string, version: string = process.version): string | undefined {
  const [major, minor] = (/^v?(\d+)\.(\d+)\./.exec(version) ?? []).slice(1).map(Number)
  if (major !== undefined && minor !== undefined && (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor))) return undefined
  return `${program}: needs Node.js >= ${MIN_NODE_TEXT} (found ${version}); install one with nvm (nvm install ${MIN_NODE.major}), ` +
    `from https://nodejs.org/en/download (prebuilt binaries), or run it once with npx -p node@${MIN_NODE.major} ${program} ...`
}

/** Exits with status 2 and one line on stderr when this Node.js is too old. */
export function exitUnlessSupportedNode (program: string): void {
  const message = unsupportedNodeMessage(program)
  if (message === undefined) return
  process.stderr.write(`${message}\n`)
  process.exit(EXIT_USAGE)
}
