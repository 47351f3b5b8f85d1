import type { BuildInfo, RuntimeInfo } from './build-info.ts'
import { redactConfig } from './config-redaction.ts'

export interface InfoInput {
  /** The program's name and what it does. */
  program: { name: string, description: string }
  build: BuildInfo
  runtime: RuntimeInfo
  peerId: string | undefined
  multiaddrs: string[]
  startedAt: number
  now: number
  /** The effective configuration; secrets are redacted here. */
  config: unknown
}

/**
 * The `/actuator/info` document, in Spring Boot's sections (`app`, `git`,
 * plus ours): what is running, which build, on what, as whom, since when,
 * configured how. Layotto's info contributors each own one key.
 */
export function infoDocument (input: InfoInput): Record<string, unknown> {
  const { build, runtime } = input
  const doc: Record<string, unknown> = {
    app: { name: input.program.name, description: input.program.description, package: build.name, version: build.version },
  }
  if (build.commit !== undefined) doc.git = { commit: { id: build.commit } }
  doc.runtime = { node: runtime.node, platform: runtime.platform, arch: runtime.arch }
  doc.libp2p = { version: runtime.libp2p, peerId: input.peerId ?? null, multiaddrs: input.multiaddrs }
  doc.process = {
    pid: process.pid,
    startedAt: new Date(input.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((input.now - input.startedAt) / 1000)),
  }
  doc.config = redactConfig(input.config)
  return doc
}
