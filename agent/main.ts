#!/usr/bin/env node
// heartbeat-agent as installed: the package's executable (dist/agent/main.js)
// and the single executable's entry point. A clone runs agent/cli.ts through
// bin/heartbeat-agent.js instead.
import { setFlagsFromString } from 'node:v8'
import { exitUnlessSupportedNode } from '../shared/node-version.ts'
import { AGENT_V8_FLAGS } from './v8-flags.ts'

exitUnlessSupportedNode('heartbeat-agent')
// Before anything else is loaded. The single executable starts with them already (its execArgv).
for (const flag of AGENT_V8_FLAGS) if (!process.execArgv.includes(flag)) setFlagsFromString(flag)
// Not a top-level await: the single executable is a CommonJS bundle.
void import('./cli.ts').then(async ({ run }) => { await run() })
