import { agentCost } from './agent-cost.ts'
import { detection } from './detection.ts'
import { fleetIdle } from './fleet-idle.ts'
import { fleetSize } from './fleet-size.ts'
import { handshake } from './handshake.ts'
import type { Benchmark } from './harness.ts'
import { ingest } from './ingest.ts'
import { reads } from './reads.ts'
import { sharedStore } from './shared-store.ts'
import { storm } from './storm.ts'

/** Every benchmark: issue 11's, issue 16's storm and idle fleet, issue 17's shared store, then the handshake cost behind the storm. */
export const BENCHMARKS: Benchmark[] = [ingest, fleetSize, detection, reads, agentCost, storm, fleetIdle, sharedStore, handshake]
