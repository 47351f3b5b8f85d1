import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { buildProgram, resolveConfig } from '../../agent/cli.ts'
import type { ResolvedAgentConfig } from '../../agent/config.ts'
import { DIST_INPUTS } from '../../scripts/build-inputs.ts'
import { loadOrCreateKey } from '../../shared/identity.ts'
import { AGENT_BIN, AGGREGATOR_BIN, ROOT, tempDir } from '../support/processes.ts'

/**
 * No Docker engine, Kubernetes or systemd runs here, so the deployment files
 * are checked by the tools that can check them without one (docker-compose
 * config, amtool, promtool, systemd-analyze verify) and against the project:
 * what they copy and run exists, every flag and environment variable they
 * use is one the programs know, and the demo keys give the peer ids the
 * agents target.
 */

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

function run (cmd: string, args: string[], cwd = ROOT): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ALERTMANAGER_URL: '', ALERT_WEBHOOK_URL: '' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Flags and env twins each program documents in --help. */
function known (bin: string): { flags: Set<string>, env: Set<string> } {
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, FIL_HEARTBEAT_ALERTS: '' } }).stdout
  return { flags: new Set(help.match(/--[a-z][a-z0-9-]*/g) ?? []), env: new Set([...(help.match(/\b(?:HEARTBEAT_[A-Z_]+|FIL_HEARTBEAT_ALERTS|FULLNODE_API_INFO)\b/g) ?? [])]) }
}
const AGENT = known(AGENT_BIN)
const AGGREGATOR = known(AGGREGATOR_BIN)

/**
 * Names the deployment files use ahead of a parallel issue that adds them
 * (the agent's probe server). Listed, not hidden: once that issue is merged
 * they are in --help and this list can go.
 */
/** Checks the flags (after the program's name) and env names against what the programs know. */
function checkUsage (where: string, program: 'heartbeat-agent' | 'heartbeat-aggregator', args: string[], envNames: string[]): void {
  const k = program === 'heartbeat-agent' ? AGENT : AGGREGATOR
  for (const arg of args.filter((a) => a.startsWith('--'))) {
    const flag = arg.split('=')[0] as string
    assert.ok(k.flags.has(flag), `${where}: ${program} has no flag ${flag}`)
  }
  for (const name of envNames.filter((n) => /^(HEARTBEAT_|FIL_HEARTBEAT_|FULLNODE_API_INFO$)/.test(n))) {
    assert.ok(k.env.has(name), `${where}: ${program} knows no environment variable ${name}`)
  }
}

/** The words after the program's name in a command (exec form, or inside `sh -c "..."`). */
function programArgs (command: string[]): { program: 'heartbeat-agent' | 'heartbeat-aggregator', args: string[] } | undefined {
  const words = command.length >= 3 && command[0] === 'sh' && command[1] === '-c' ? (command[2] as string).split(/\s+/) : command
  const named = (w: string): RegExpExecArray | null => /^(?:.*\/)?(heartbeat-(?:agent|aggregator))(?:\.js)?$/.exec(w)
  const at = words.findIndex((w) => named(w) !== null)
  if (at < 0) return undefined
  const program = named(words[at] as string)![1] as 'heartbeat-agent' | 'heartbeat-aggregator'
  return { program, args: words.slice(at + 1) }
}

/**
 * The settings an agent gets from a deployment file's flags and environment,
 * resolved by the agent's own code (commander reads the env twins from
 * process.env, so it is set for the call and restored).
 */
function agentConfigOf (args: string[], env: Record<string, string>): ResolvedAgentConfig {
  const saved = { ...process.env }
  for (const key of Object.keys(process.env)) if (/^(HEARTBEAT_AGENT_|FULLNODE_API_INFO$)/.test(key)) delete process.env[key]
  Object.assign(process.env, env)
  try {
    const program = buildProgram()
    program.parse(['node', 'heartbeat-agent', ...args])
    return resolveConfig(program, undefined, process.env)
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
}

/** A deployment outside the demo reads a real node: never the demo source, said or defaulted. */
function assertReadsLotus (where: string, config: ResolvedAgentConfig, tokenFile: string): void {
  assert.equal(config.source.kind, 'lotus', `${where}: the agent reads Lotus, not the demo chain`)
  assert.equal(config.source.origin.kind, 'FULLNODE_API_INFO', `${where}: chosen by FULLNODE_API_INFO, as Lotus's tools do`)
  assert.equal(config.source.url, 'http://127.0.0.1:1234/rpc/v1', `${where}: the node beside it`)
  assert.deepEqual(config.source.origin.token, { from: 'file', path: tokenFile }, `${where}: the token from a file`)
}

function peerIdOfKeyFile (path: string): string {
  return peerIdFromPrivateKey(privateKeyFromProtobuf(readFileSync(join(ROOT, path)))).toString()
}

interface DockerStage { name: string | undefined, instructions: Array<{ op: string, args: string[] }> }

/** The Dockerfile as stages of instructions (line continuations joined, comments dropped). */
function dockerStages (): DockerStage[] {
  const lines = read('Dockerfile').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const stages: DockerStage[] = []
  for (const line of lines) {
    const [op, ...args] = line.split(/\s+/)
    const instruction = { op: (op as string).toUpperCase(), args }
    if (instruction.op === 'FROM') stages.push({ name: args[2], instructions: [] })
    stages.at(-1)?.instructions.push(instruction)
  }
  return stages
}

/** Local sources a stage copies (not --from another stage), as [source, destination]. */
function localCopies (stage: DockerStage): Array<[string, string]> {
  return stage.instructions.filter((i) => i.op === 'COPY' && !i.args.some((a) => a.startsWith('--from'))).flatMap((copy) => {
    const paths = copy.args.filter((a) => !a.startsWith('--'))
    const destination = paths.at(-1) as string
    return paths.slice(0, -1).map((source): [string, string] => [source.replace(/\/$/, ''), destination])
  })
}

test('Dockerfile: multi-stage on Node 24, builds dist/ from what it copies, runs it as a non-root user', () => {
  const stages = dockerStages()
  assert.ok(stages.length >= 2, 'multi-stage')
  for (const stage of stages) assert.match(stage.instructions[0]!.args[0] as string, /^node:24(-|$)/, 'Node 24 base image')
  const runtime = stages.at(-1)!
  const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)
  assert.ok(user !== undefined && !['root', '0', '0:0'].includes(user.args[0] as string), 'the runtime stage runs as a non-root user')
  assert.equal(runtime.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args[0], '/app')

  // The build stage copies everything the build reads (scripts/build-inputs.ts lists it) and runs the build.
  const build = stages.find((s) => s.instructions.some((i) => i.op === 'RUN' && i.args.join(' ') === 'node scripts/build.ts'))
  assert.ok(build?.name !== undefined, 'a named stage runs node scripts/build.ts')
  const buildCopies = localCopies(build)
  for (const [source] of buildCopies) assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: exists in the project`)
  for (const input of DIST_INPUTS) assert.ok(buildCopies.some(([source]) => input === source || input.startsWith(`${source}/`)), `the build stage copies ${input}, a build input`)
  assert.ok(build.instructions.some((i) => i.op === 'RUN' && /^npm ci\b/.test(i.args.join(' ')) && !i.args.includes('--omit=dev')), 'the build stage installs the development tools')

  // The runtime stage: production dependencies, package.json (name and version), and the build's dist/.
  const fromStage = (source: string): string | undefined => runtime.instructions.find((i) => i.op === 'COPY' && i.args.some((a) => a.startsWith('--from')) && i.args.includes(source))?.args.find((a) => a.startsWith('--from='))?.slice('--from='.length)
  assert.equal(fromStage('/src/dist'), build.name, 'dist/ comes from the build stage')
  const deps = stages.find((s) => s.name === fromStage('/app/node_modules'))
  assert.ok(deps?.instructions.some((i) => i.op === 'RUN' && /^npm ci\b/.test(i.args.join(' ')) && i.args.includes('--omit=dev')), 'node_modules holds the production dependencies only')
  assert.deepEqual(localCopies(runtime), [['package.json', './']], 'the runtime stage copies no sources')

  // CMD names a program on PATH; RUN ln -s puts each of package.json's bin entries there.
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>, dependencies: Record<string, string> }
  const links = new Map([...read('Dockerfile').matchAll(/ln -s \/app\/(\S+) \/usr\/local\/bin\/(\S+)/g)].map((m) => [m[2] as string, m[1] as string]))
  assert.deepEqual(Object.fromEntries(links), pkg.bin, 'the programs on PATH are the package\'s bin entries')
  const cmd = JSON.parse(runtime.instructions.filter((i) => i.op === 'CMD').at(-1)!.args.join(' ')) as string[]
  assert.ok(links.has(cmd[0] as string), `CMD ${cmd[0]} is on PATH`)
  assert.match(read('.dockerignore'), /^node_modules$/m)
  assert.match(read('.dockerignore'), /^dist$/m, 'a local build never leaks into the image')

  // npm ci in the image refuses a lock file out of step with package.json.
  const lock = JSON.parse(read('package-lock.json'))
  assert.deepEqual(lock.packages[''].dependencies, pkg.dependencies, 'package-lock.json matches package.json (npm ci)')

  // By hand, what the image does: the build stage's files only, its build, then the runtime layout
  // (/app: dist/ from the build, package.json, node_modules) runs both programs from the links' targets.
  const src = tempDir('hb-image-src-')
  for (const [source] of buildCopies) cpSync(join(ROOT, source), join(src, source), { recursive: true, filter: (path) => !/\/(dist|node_modules)$/.test(path) })
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'))
  const built = spawnSync(process.execPath, ['scripts/build.ts'], { cwd: src, encoding: 'utf8', timeout: 180_000 })
  assert.equal(built.status, 0, built.stdout + built.stderr)
  const app = tempDir('hb-image-app-')
  cpSync(join(src, 'dist'), join(app, 'dist'), { recursive: true })
  copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'))
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'))
  for (const [program, target] of links) {
    assert.ok((statSync(join(app, target)).mode & 0o111) !== 0, `${target} is executable`)
    const version = spawnSync(join(app, target), ['--version'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` } })
    assert.equal(version.stdout.trim(), JSON.parse(read('package.json')).version, `${program} --version in the image layout: ${version.stderr}`)
  }
  for (const file of ['index.html', 'favicon.svg', 'dist/app.js', 'dist/app.css']) {
    assert.ok(existsSync(join(app, 'dist', 'aggregator', 'web', file)), `the image serves ${file} from dist/`)
  }
})

test('docker-compose.yml validates with docker-compose config; the demo keys give the peer ids the agents target', async () => {
  const plain = run('docker-compose', ['-f', 'docker-compose.yml', 'config'])
  assert.equal(plain.status, 0, plain.stderr)
  const monitoring = run('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'monitoring', 'config'])
  assert.equal(monitoring.status, 0, monitoring.stderr)
  const config = parseYaml(plain.stdout) as { services: Record<string, any>, secrets: Record<string, { file: string }> }
  const services = config.services
  assert.deepEqual(Object.keys(services).sort(), ['agent-1', 'agent-2', 'agent-3', 'aggregator', 'alerting', 'alertmanager', 'grafana', 'postgres', 'prometheus',
    'shared-1', 'shared-2', 'shared-agent-1', 'shared-agent-2'])
  for (const name of ['prometheus', 'alertmanager', 'grafana']) assert.deepEqual(services[name].profiles, ['monitoring'], `${name} is optional`)
  for (const name of ['postgres', 'shared-1', 'shared-2', 'shared-agent-1', 'shared-agent-2']) assert.deepEqual(services[name].profiles, ['shared'], `${name} is optional`)
  for (const name of ['aggregator', 'alerting', 'agent-1', 'agent-2', 'agent-3']) {
    assert.equal(services[name].profiles, undefined, `${name} runs by default`)
    assert.equal(services[name].build.context, ROOT.replace(/\/$/, ''), `${name} is built from this project`)
  }

  // Every file the compose file mounts exists.
  for (const secret of Object.values(config.secrets)) assert.ok(existsSync(secret.file), `secret ${secret.file} exists`)
  for (const service of Object.values(services)) {
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] as string : volume.source as string
      if (source.startsWith('/')) assert.ok(existsSync(source), `mounted ${source} exists`)
    }
  }

  // The aggregators install the demo keys; the agents target their peer ids.
  const peerOf = (service: string): string => {
    const secret = (services[service].secrets as Array<string | { source: string }>).map((s) => typeof s === 'string' ? s : s.source).find((s) => s.endsWith('_key')) as string
    const file = relative(ROOT, config.secrets[secret]!.file)
    assert.match(services[service].command.join(' '), new RegExp(`install -m 600 /run/secrets/${secret} /data/peer.key`))
    return peerIdOfKeyFile(file)
  }
  const primaryPeer = peerOf('aggregator')
  const alertingPeer = peerOf('alerting')
  assert.notEqual(primaryPeer, alertingPeer)
  for (const name of ['agent-1', 'agent-2', 'agent-3']) {
    const command = services[name].command as string[]
    assert.equal(command[command.indexOf('--target') + 1], `/dns4/aggregator/tcp/4100/p2p/${primaryPeer}`)
    assert.equal(services[name].environment.FIL_HEARTBEAT_ALERTS, `/dns4/alerting/tcp/4100/p2p/${alertingPeer}`)
    assert.match(services[name].environment.HEARTBEAT_AGENT_NICKNAME, /^demo-\d$/)
  }
  // The key loader accepts the installed key (mode 0600) and finds the same peer id.
  const data = tempDir('hb-compose-')
  copyFileSync(join(ROOT, 'deploy/demo/aggregator.key'), join(data, 'peer.key'))
  spawnSync('chmod', ['600', join(data, 'peer.key')])
  assert.equal(peerIdFromPrivateKey((await loadOrCreateKey(join(data, 'peer.key'))).key).toString(), primaryPeer)
  assert.match(read('deploy/demo/README.md'), /DEMO ONLY/)
  assert.ok(read('deploy/demo/README.md').includes(primaryPeer) && read('deploy/demo/README.md').includes(alertingPeer))

  // Every flag and env twin the services use is one the programs know.
  for (const [name, service] of Object.entries(services)) {
    const usage = Array.isArray(service.command) ? programArgs(service.command as string[]) : undefined
    if (usage === undefined) continue
    checkUsage(`docker-compose.yml ${name}`, usage.program, usage.args, Object.keys(service.environment ?? {}))
  }
  assert.equal(programArgs(services.alerting.command)?.program, 'heartbeat-aggregator')

  // The alerting aggregator's tokens are its own Compose secrets, two different demo tokens (the aggregator refuses one for both).
  const alertingArgs = programArgs(services.alerting.command)?.args ?? []
  const tokens = ['--admin-token-file', '--viewer-token-file'].map((flag) => {
    const path = alertingArgs[alertingArgs.indexOf(flag) + 1] as string
    const secret = /^\/run\/secrets\/(\w+)$/.exec(path)?.[1] as string
    assert.ok(secret !== undefined && (services.alerting.secrets as Array<string | { source: string }>).some((s) => (typeof s === 'string' ? s : s.source) === secret), `${flag} ${path} is a secret of the service`)
    return readFileSync(config.secrets[secret]!.file, 'utf8').trim()
  })
  assert.notEqual(tokens[0], tokens[1])
  for (const token of tokens) assert.match(token, /^demo-only-/, 'the committed tokens say they are for the demo')
})

test('the shared profile: PostgreSQL and two aggregators on it as one fleet, agents that fail over between them', () => {
  const shared = run('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'shared', 'config'])
  assert.equal(shared.status, 0, shared.stderr)
  const config = parseYaml(shared.stdout) as { services: Record<string, any>, secrets: Record<string, { file: string }> }
  const { services } = config
  const postgres = services.postgres
  assert.match(postgres.image, /^postgres:15(\.\d+)*$/, 'a pinned PostgreSQL 15')
  assert.ok(postgres.healthcheck.test.includes('pg_isready'))
  const sharedKey = peerIdOfKeyFile(relative(ROOT, config.secrets.shared_key!.file))
  assert.ok(read('deploy/demo/README.md').includes(sharedKey))
  const instances: string[] = []
  for (const name of ['shared-1', 'shared-2']) {
    const service = services[name]
    const store = new URL(service.environment.HEARTBEAT_AGGREGATOR_STORE as string)
    assert.equal(store.protocol, 'postgres:')
    assert.equal(store.hostname, 'postgres', `${name} uses the profile's database`)
    assert.equal(decodeURIComponent(store.username), postgres.environment.POSTGRES_USER)
    assert.equal(decodeURIComponent(store.password), postgres.environment.POSTGRES_PASSWORD)
    assert.equal(store.pathname.slice(1), postgres.environment.POSTGRES_DB)
    assert.equal(service.depends_on.postgres.condition, 'service_healthy', 'the aggregators wait for the database (a server not there at start is exit 2)')
    assert.match(service.command.join(' '), /install -m 600 \/run\/secrets\/shared_key \/data\/peer.key/)
    const usage = programArgs(service.command)
    assert.ok(usage !== undefined)
    checkUsage(`docker-compose.yml ${name}`, usage.program, usage.args, Object.keys(service.environment))
    instances.push(usage.args[usage.args.indexOf('--instance') + 1] as string)
  }
  assert.deepEqual(instances, ['shared-1', 'shared-2'], 'one key, two names in the store')
  for (const name of ['shared-agent-1', 'shared-agent-2']) {
    const command = services[name].command as string[]
    const targets = command.flatMap((w, i) => w === '--target' ? [command[i + 1] as string] : [])
    assert.deepEqual(targets, [`100=/dns4/shared-1/tcp/4100/p2p/${sharedKey}`, `50=/dns4/shared-2/tcp/4100/p2p/${sharedKey}`])
    checkUsage(`docker-compose.yml ${name}`, 'heartbeat-agent', command.slice(1), Object.keys(services[name].environment ?? {}))
  }
})

test('Kubernetes: the aggregator with /livez and /readyz probes and a Service; the agent as a sidecar with its probes', () => {
  const docs = readdirSync(join(ROOT, 'deploy/k8s')).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseAllDocuments(read(`deploy/k8s/${f}`)).map((d) => {
    assert.deepEqual(d.errors, [], `deploy/k8s/${f} is valid YAML`)
    return { file: f, doc: d.toJS() as any }
  }))
  const find = (kind: string, name: string): any => docs.find((d) => d.doc.kind === kind && d.doc.metadata.name === name)?.doc
  for (const { file, doc } of docs) {
    assert.ok(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string' && typeof doc.metadata?.name === 'string', `${file}: apiVersion, kind, metadata.name`)
  }

  const deployment = find('Deployment', 'heartbeat-aggregator')
  const pod = deployment.spec.template
  assert.deepEqual(deployment.spec.selector.matchLabels, pod.metadata.labels)
  const aggregator = pod.spec.containers.find((c: any) => c.args[0] === 'heartbeat-aggregator')
  const ports = new Map<string, number>(aggregator.ports.map((p: any) => [p.name, p.containerPort]))
  assert.equal(aggregator.livenessProbe.httpGet.path, '/livez')
  assert.equal(aggregator.readinessProbe.httpGet.path, '/readyz')
  for (const probe of [aggregator.livenessProbe, aggregator.readinessProbe]) assert.ok(ports.has(probe.httpGet.port), 'probes use a declared port')
  const httpArg = aggregator.args.find((a: string) => a.startsWith('--http=')) as string
  assert.equal(Number(httpArg.split(':').at(-1)), ports.get('http'), 'the http port is where --http listens')
  assert.equal(Number(/tcp\/(\d+)/.exec(aggregator.args.find((a: string) => a.startsWith('--listen=')))?.[1]), ports.get('p2p'))
  assert.equal(pod.spec.securityContext.runAsNonRoot, true)
  checkUsage('aggregator.yaml', 'heartbeat-aggregator', aggregator.args.slice(1), aggregator.env.map((e: any) => e.name))
  // Both tokens (admin API; the page's read-only sign-in) come from Secrets mounted read-only.
  for (const flag of ['--admin-token-file', '--viewer-token-file']) {
    const file = (aggregator.args.find((a: string) => a.startsWith(`${flag}=`)) as string | undefined)?.slice(flag.length + 1)
    assert.ok(file !== undefined, `aggregator.yaml sets ${flag}`)
    const mount = aggregator.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`))
    assert.equal(mount?.readOnly, true, `${flag}: mounted read-only`)
    assert.equal(typeof pod.spec.volumes.find((v: any) => v.name === mount.name)?.secret?.secretName, 'string', `${flag}: from a Secret`)
  }
  const claim = pod.spec.volumes.find((v: any) => v.persistentVolumeClaim !== undefined).persistentVolumeClaim.claimName
  assert.ok(find('PersistentVolumeClaim', claim), 'the data volume claim is defined')
  const dataMount = aggregator.volumeMounts.find((m: any) => m.mountPath === '/data')
  assert.ok(dataMount !== undefined && aggregator.args.includes('--data-dir=/data'), 'the key and state live on the volume')

  const service = find('Service', 'heartbeat-aggregator')
  assert.deepEqual(service.spec.selector, pod.metadata.labels, 'the Service selects the aggregator')
  for (const p of service.spec.ports) assert.ok(ports.has(p.targetPort), `Service port ${p.name} targets a container port`)

  const sts = find('StatefulSet', 'filecoin-node')
  const agent = sts.spec.template.spec.containers.find((c: any) => c.args?.[0] === 'heartbeat-agent')
  assert.ok(agent !== undefined, 'the agent runs as a sidecar')
  assert.ok(sts.spec.template.spec.containers.length >= 2, 'beside the node')
  const env = new Map<string, any>(agent.env.map((e: any) => [e.name, e]))
  const healthPort = Number((env.get('HEARTBEAT_AGENT_HEALTH_LISTEN').value as string).split(':').at(-1))
  const agentPorts = new Map<string, number>(agent.ports.map((p: any) => [p.name, p.containerPort]))
  for (const probe of [agent.livenessProbe, agent.readinessProbe]) {
    assert.equal(agentPorts.get(probe.httpGet.port), healthPort, 'the probes hit --health-listen')
  }
  assert.equal(agent.livenessProbe.httpGet.path, '/livez')
  assert.equal(agent.readinessProbe.httpGet.path, '/readyz')
  const keyArg = agent.args.find((a: string) => a.startsWith('--key-file=')) as string
  const keyMount = agent.volumeMounts.find((m: any) => keyArg.slice('--key-file='.length).startsWith(`${m.mountPath}/`))
  assert.ok(keyMount !== undefined && sts.spec.volumeClaimTemplates.some((t: any) => t.metadata.name === keyMount.name), 'the agent key is on a per-pod volume')
  const configMap = find('ConfigMap', 'heartbeat-target')
  for (const e of agent.env) {
    const ref = e.valueFrom?.configMapKeyRef
    if (ref !== undefined) assert.ok(ref.name === 'heartbeat-target' && ref.key in configMap.data, `${e.name} comes from a defined ConfigMap key`)
  }
  checkUsage('agent-sidecar.yaml', 'heartbeat-agent', agent.args.slice(1), [...env.keys()])

  // The shared store: two replicas, the URL from a Secret, the pod name as the instance, the shared key installed by an init container.
  const shared = find('Deployment', 'heartbeat-aggregator-shared')
  assert.equal(shared.spec.replicas, 2)
  const sharedPod = shared.spec.template
  assert.deepEqual(shared.spec.selector.matchLabels, sharedPod.metadata.labels)
  const replica = sharedPod.spec.containers.find((c: any) => c.args[0] === 'heartbeat-aggregator')
  const replicaEnv = new Map<string, any>(replica.env.map((e: any) => [e.name, e]))
  const storeRef = replicaEnv.get('HEARTBEAT_AGGREGATOR_STORE').valueFrom.secretKeyRef
  const storeSecret = find('Secret', storeRef.name)
  assert.ok(storeSecret !== undefined && /^postgres(ql)?:\/\//.test(storeSecret.stringData[storeRef.key]), 'the store URL comes from a defined Secret')
  assert.equal(replicaEnv.get('HEARTBEAT_AGGREGATOR_INSTANCE').valueFrom.fieldRef.fieldPath, 'metadata.name')
  assert.equal(replica.livenessProbe.httpGet.path, '/livez')
  assert.equal(replica.readinessProbe.httpGet.path, '/readyz')
  assert.ok(replica.args.includes('--data-dir=/data'))
  assert.ok(!replica.args.some((a: string) => a.startsWith('--store')), 'the URL is never an argument (it would show in the pod spec)')
  checkUsage('aggregator-shared.yaml', 'heartbeat-aggregator', replica.args.slice(1), [...replicaEnv.keys()])
  const init = sharedPod.spec.initContainers.find((c: any) => c.name === 'install-key')
  assert.match(init.command.join(' '), /install -m 600 \/etc\/heartbeat\/key\/peer.key \/data\/peer.key/)
  const keyVolume = sharedPod.spec.volumes.find((v: any) => v.name === 'key')
  assert.equal(keyVolume.secret.defaultMode, 0o440, 'readable by the pod\'s group, so the init container can copy it')
  const sharedService = find('Service', 'heartbeat-aggregator-shared')
  assert.deepEqual(sharedService.spec.selector, sharedPod.metadata.labels)
  const replicaPorts = new Set(replica.ports.map((p: any) => p.name))
  for (const p of sharedService.spec.ports) assert.ok(replicaPorts.has(p.targetPort))
  // It reads the Lotus node beside it, with the token from a Secret mounted read-only; no demo in the args
  // (flags beat env: a --source there could not be switched without editing the file).
  assert.equal(agent.args.some((a: string) => a.startsWith('--source')), false, 'the source is set through env, so it can be switched')
  const values = Object.fromEntries(agent.env.filter((e: any) => typeof e.value === 'string').map((e: any) => [e.name, e.value as string])) as Record<string, string>
  const tokenFile = values.HEARTBEAT_AGENT_SOURCE_TOKEN_FILE as string
  assertReadsLotus('agent-sidecar.yaml', agentConfigOf(agent.args.slice(1), values), tokenFile)
  const tokenMount = agent.volumeMounts.find((m: any) => tokenFile.startsWith(`${m.mountPath}/`))
  assert.equal(tokenMount?.readOnly, true, 'the token volume is read-only')
  const tokenVolume = sts.spec.template.spec.volumes.find((v: any) => v.name === tokenMount.name)
  const secret = find('Secret', tokenVolume.secret.secretName)
  assert.ok(secret !== undefined && tokenFile.slice(tokenMount.mountPath.length + 1) in secret.stringData, 'the token file is a key of a Secret defined here')
  const node = sts.spec.template.spec.containers.find((c: any) => c !== agent)
  assert.ok(node.ports.some((p: any) => p.containerPort === 1234), 'the node serves its API where FULLNODE_API_INFO says')
})

test('systemd units pass systemd-analyze verify and run the project\'s executables with known flags', () => {
  const dir = tempDir('hb-systemd-')
  const units = readdirSync(join(ROOT, 'deploy/systemd')).filter((f) => f.endsWith('.service'))
  assert.deepEqual(units.sort(), ['heartbeat-agent.service', 'heartbeat-aggregator.service'])
  for (const unit of units) {
    const text = read(`deploy/systemd/${unit}`)
    // Installed in /usr/local/bin (npm install -g, or the single executable): point that at this
    // checkout's launchers so verify finds executables.
    writeFileSync(join(dir, unit), text.replace(/\/usr\/local\/bin\/(heartbeat-(?:agent|aggregator))\b/g, `${join(ROOT, 'bin')}/$1.js`))
    const execStart = /^ExecStart=(.+)$/m.exec(text)?.[1] as string
    const usage = programArgs(execStart.split(/\s+/))
    assert.ok(usage !== undefined, `${unit} runs one of the programs`)
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> }
    assert.ok(execStart.split(/\s+/)[0] === `/usr/local/bin/${usage!.program}` && pkg.bin[usage!.program] !== undefined, `${unit}: runs ${usage!.program} from where npm install -g puts it`)
    const example = `deploy/systemd/${unit.replace('.service', '.env.example')}`
    const envNames = [...read(example).matchAll(/^#?([A-Z_]+)=/gm)].map((m) => m[1] as string)
    assert.ok(envNames.length > 0)
    checkUsage(unit, usage!.program, usage!.args, envNames)
  }

  // The agent reads Lotus with a token the unit can read: ProtectHome=yes hides ~/.lotus, so the unit
  // hands a file from /etc over as a systemd credential (%d is the credentials directory).
  const agentUnit = read('deploy/systemd/heartbeat-agent.service')
  assert.match(agentUnit, /^ProtectHome=yes$/m)
  const credential = /^LoadCredential=([a-z-]+):(\S+)$/m.exec(agentUnit)
  assert.ok(credential !== null, 'the token is a LoadCredential=')
  assert.doesNotMatch(credential[2] as string, /^(\/home|\/root|~)/, 'from a path outside the homes')
  const execArgs = (/^ExecStart=(.+)$/m.exec(agentUnit)?.[1] as string).split(/\s+/).slice(1).map((a) => a.replaceAll('%d', '/run/credentials/heartbeat-agent.service'))
  // The placeholders made real (a valid peer id), so the rest of each value is checked as the agent reads it.
  const active = Object.fromEntries([...read('deploy/systemd/heartbeat-agent.env.example').matchAll(/^([A-Z_]+)=(.*)$/gm)]
    .map((m) => [m[1] as string, (m[2] as string).replace(/REPLACE_WITH_[A-Z_]*PEER_ID/, '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc')]))
  assertReadsLotus('heartbeat-agent.service', agentConfigOf(execArgs, active), `/run/credentials/heartbeat-agent.service/${credential[1] as string}`)
  assert.equal(/^HEARTBEAT_AGENT_SOURCE=demo/m.test(read('deploy/systemd/heartbeat-agent.env.example')), false)
  // The aggregator's tokens are credentials the unit loads, never files it would have to be let read.
  const aggregatorUnit = read('deploy/systemd/heartbeat-aggregator.service')
  for (const flag of ['--admin-token-file', '--viewer-token-file']) {
    const path = new RegExp(`${flag} (\\S+)`).exec(/^ExecStart=(.+)$/m.exec(aggregatorUnit)?.[1] ?? '')?.[1]
    const name = /^\/run\/credentials\/heartbeat-aggregator\.service\/([a-z-]+)$/.exec(path ?? '')?.[1]
    assert.ok(name !== undefined, `heartbeat-aggregator.service passes ${flag} from its credentials directory`)
    assert.match(aggregatorUnit, new RegExp(`^LoadCredential=${name}:/etc/\\S+$`, 'm'), `${flag}: LoadCredential=${name}`)
  }
  const verify = run('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))])
  assert.equal(verify.status, 0, verify.stderr)
  assert.equal(verify.stderr.trim(), '', 'no warnings (unknown keys, bad values)')
  // The check has teeth: a misspelt key is reported.
  writeFileSync(join(dir, 'bad.service'), read('deploy/systemd/heartbeat-agent.service').replace('NoNewPrivileges=', 'NoNewPriviledges='))
  assert.match(run('systemd-analyze', ['verify', join(dir, 'bad.service')]).stderr, /Unknown key 'NoNewPriviledges'/)
})

test('the compose demo\'s Alertmanager and Prometheus configs are valid', () => {
  const am = run('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml'])
  assert.equal(am.status, 0, am.stdout + am.stderr)
  // promtool checks the rule files the config names too (deploy/prometheus/heartbeat-rules.yml).
  const prom = run('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'])
  assert.equal(prom.status, 0, prom.stdout + prom.stderr)
  assert.match(prom.stdout, /Checking deploy\/prometheus\/heartbeat-rules\.yml\s+SUCCESS/)
  // Prometheus scrapes the services the compose file defines, on their HTTP port, and alerts to its Alertmanager.
  const config = parseYaml(read('deploy/prometheus/prometheus.yml')) as {
    scrape_configs: Array<{ job_name: string, static_configs: Array<{ targets: string[] }> }>
    alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> }
  }
  const job = config.scrape_configs.find((j) => j.job_name === 'heartbeat-aggregator')
  assert.deepEqual(job?.static_configs.flatMap((c) => c.targets), ['aggregator:8080', 'alerting:8080'], 'the job the rules about the aggregator name')
  assert.deepEqual(config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)), ['alertmanager:9093'])
})

/** host path -> container path of a service's bind mounts (docker-compose config writes them `host:container[:mode]`). */
function binds (service: { volumes?: Array<string | { source: string, target: string }> }): Map<string, string> {
  return new Map((service.volumes ?? []).map((v) => typeof v === 'string' ? v.split(':').slice(0, 2) as [string, string] : [v.source, v.target]))
}

test('the monitoring profile provisions Prometheus with the rules and Grafana with the dashboard and its data source', () => {
  const monitoring = run('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'monitoring', 'config'])
  assert.equal(monitoring.status, 0, monitoring.stderr)
  const services = (parseYaml(monitoring.stdout) as { services: Record<string, any> }).services
  const published = (name: string): number[] => (services[name].ports ?? []).map((p: string | { target: number }) => typeof p === 'string' ? Number(p.split(':').at(-1)) : Number(p.target))

  // Prometheus: its config at the image's default path, every rule file it names beside it.
  const prometheus = binds(services.prometheus)
  const inPrometheus = (container: string): string | undefined => [...prometheus].find(([, c]) => c === container)?.[0]
  assert.equal(inPrometheus('/etc/prometheus/prometheus.yml'), join(ROOT, 'deploy/prometheus/prometheus.yml'))
  const ruleFiles = (parseYaml(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[] }).rule_files
  assert.deepEqual(ruleFiles, ['heartbeat-rules.yml'])
  for (const file of ruleFiles) assert.equal(inPrometheus(`/etc/prometheus/${file}`), join(ROOT, 'deploy/prometheus', file), `${file} is mounted where prometheus.yml looks`)
  assert.ok(published('alertmanager').includes(9093), 'Alertmanager listens where Prometheus sends')
  assert.ok(Object.keys(services.prometheus.depends_on).includes('alertmanager'))

  // Grafana: the provisioning tree at /etc/grafana/provisioning, the dashboards where the provider reads them.
  const grafana = binds(services.grafana)
  assert.match(services.grafana.image, /^grafana\/grafana:\d+\.\d+\.\d+$/, 'a pinned Grafana image')
  assert.equal(grafana.get(join(ROOT, 'deploy/grafana/provisioning')), '/etc/grafana/provisioning')
  const providers = (parseYaml(read('deploy/grafana/provisioning/dashboards/fil-heartbeat.yml')) as { apiVersion: number, providers: Array<{ type: string, options: { path: string } }> })
  assert.equal(providers.apiVersion, 1)
  assert.equal(providers.providers[0]?.type, 'file')
  const dashboardsAt = providers.providers[0]?.options.path as string
  assert.equal(grafana.get(join(ROOT, 'deploy/grafana/dashboards')), dashboardsAt, 'the provider reads the mounted dashboards')
  const dashboards = readdirSync(join(ROOT, 'deploy/grafana/dashboards')).filter((f) => f.endsWith('.json'))
  assert.deepEqual(dashboards, ['heartbeat-fleet.json'])
  const home = services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string
  assert.equal(home, `${dashboardsAt}/${dashboards[0] as string}`, 'the home dashboard is the provisioned one')
  // The data source is the compose Prometheus, at the port it listens on, and the dashboard's default.
  const datasources = (parseYaml(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { apiVersion: number, datasources: Array<{ type: string, url: string, isDefault: boolean, jsonData: { timeInterval: string } }> })
  assert.equal(datasources.apiVersion, 1)
  const [ds] = datasources.datasources
  assert.equal(ds?.type, 'prometheus')
  assert.equal(ds?.isDefault, true, 'the dashboard\'s datasource variable picks the default')
  const url = new URL(ds?.url as string)
  assert.ok(url.hostname in services && url.hostname === 'prometheus', 'the data source is the prometheus service')
  assert.ok(published('prometheus').includes(Number(url.port)), 'at the port Prometheus listens on')
  const scrape = (parseYaml(read('deploy/prometheus/prometheus.yml')) as { global: { scrape_interval: string } }).global.scrape_interval
  assert.equal(ds?.jsonData.timeInterval, scrape, 'timeInterval is the scrape interval ($__rate_interval depends on it)')
})

test('docs/deployment.md describes every deployment file', () => {
  const doc = read('docs/deployment.md')
  const files = ['Dockerfile', 'docker-compose.yml', ...(readdirSync(join(ROOT, 'deploy'), { recursive: true }) as string[])
    .filter((f) => lstatSync(join(ROOT, 'deploy', f)).isFile()).map((f) => `deploy/${f}`)]
  for (const file of files) {
    const named = file.startsWith('deploy/demo/') ? 'deploy/demo/' : file
    assert.ok(doc.includes(named), `docs/deployment.md mentions ${named}`)
  }
})
