#!/usr/bin/env node
// heartbeat-aggregator as installed: the package's executable
// (dist/aggregator/main.js) and the single executable's entry point. A clone
// runs aggregator/cli.ts through bin/heartbeat-aggregator.js instead.
import { exitUnlessSupportedNode } from '../shared/node-version.ts'

exitUnlessSupportedNode('heartbeat-aggregator')
// Not a top-level await: the single executable is a CommonJS bundle.
void import('./cli.ts').then(async ({ run }) => { await run() })
