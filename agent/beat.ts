import type { ComponentHealth } from '../shared/health.ts'
import type { AgentState, AnnouncedMaintenance, Heartbeat } from '../shared/heartbeat.ts'
import { HEARTBEAT_VERSION, MAX_UINT } from '../shared/protocol.ts'
import { CHAIN_SOURCE_COMPONENT, type ChainSnapshot } from './chain-monitor.ts'
import { fitHealth } from './component-limits.ts'

export interface BeatInputs {
  snapshot: ChainSnapshot
  nickname: string
  /** The --miner-address flag; a source's own miner address is used when this is empty. */
  minerAddress: string
  seq: number
  sentAt: number
  periodMs: number
  agentVersion: string
  agentStartedAt: number
  state: AgentState
  /** Where head and height come from (the heartbeat's optional `source`). */
  source?: string
  /** Components beyond the chain source (checks, the agent's own). */
  components?: Record<string, ComponentHealth>
  /** Set while the operator has put the node in maintenance (--maintenance, SIGUSR1). */
  maintenance?: AnnouncedMaintenance
}

/** Builds one heartbeat from the latest chain snapshot; pure. */
export function buildHeartbeat (inputs: BeatInputs): Heartbeat {
  const { reading, component } = inputs.snapshot
  const components: Record<string, ComponentHealth> = {
    ...reading?.components,
    ...inputs.components,
    [CHAIN_SOURCE_COMPONENT]: component,
  }
  const heartbeat: Heartbeat = {
    v: HEARTBEAT_VERSION,
    head: reading?.head ?? '',
    height: reading?.height ?? 0,
    nickname: inputs.nickname,
    minerAddress: inputs.minerAddress !== '' ? inputs.minerAddress : (reading?.minerAddress ?? ''),
    network: reading?.network ?? '',
    seq: inputs.seq,
    sentAt: Math.floor(inputs.sentAt),
    period: Math.round(inputs.periodMs),
    health: fitHealth(components, [CHAIN_SOURCE_COMPONENT, 'sync']),
    agent: { version: inputs.agentVersion, startedAt: Math.floor(inputs.agentStartedAt) },
    state: inputs.state,
  }
  // Only when set: the field is absent from the beats of a node not in maintenance.
  if (inputs.maintenance !== undefined) heartbeat.maintenance = { ...inputs.maintenance }
  // The head's own time, when the source knows it (kept with the last head while the source fails: it is that head's).
  const headTime = reading?.headTime
  if (headTime !== undefined && Number.isFinite(headTime) && headTime >= 0) heartbeat.headTime = Math.min(MAX_UINT, Math.floor(headTime))
  if (inputs.source !== undefined) heartbeat.source = inputs.source
  return heartbeat
}
