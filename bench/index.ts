import { agentCost } from './agent-cost.ts'
import { detection } from './detection.ts'
import { fleetSize } from './fleet-size.ts'
import { handshake } from './handshake.ts'
import type { Benchmark } from './harness.ts'
import { ingest } from './ingest.ts'
import { reads } from './reads.ts'
import { storm } from './storm.ts'

/** Every benchmark, in the order of issue 11, then the handshake cost behind the storm. */
export const BENCHMARKS: Benchmark[] = [ingest, fleetSize, detection, reads, agentCost, storm, handshake]
