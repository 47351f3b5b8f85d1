/**
 * V8 settings for the agent as installed (dist/ and the single executable), a
 * sidecar that beats every few seconds: favour memory over speed (smaller
 * heap growth steps and young generation) and leave out the optimizing
 * compilers, whose own code and output cost more resident memory than the CPU
 * they save at one beat per period. `npm run bench -- agent` measures the
 * agent with them (docs/BENCHMARKS.md).
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--optimize-for-size', '--no-opt', '--no-maglev']
