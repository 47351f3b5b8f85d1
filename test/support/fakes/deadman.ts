import { type FakeService, startFakeService } from './service.ts'

/**
 * A Healthchecks-style dead man's switch: GET/POST/HEAD /<uuid> is a ping,
 * /<uuid>/fail a failure, /<uuid>/start a start; answers 200 "OK", and 404
 * "not found" for an unknown check.
 */
export async function startFakeDeadman (options: { uuid: string }): Promise<FakeService & { pingUrl: string, signals: () => string[] }> {
  const service = await startFakeService((r) => {
    if (r.path === `/${options.uuid}` || r.path === `/${options.uuid}/fail` || r.path === `/${options.uuid}/start`) return { status: 200, body: 'OK' }
    return { status: 404, body: 'not found' }
  })
  return {
    ...service,
    pingUrl: `${service.url}/${options.uuid}`,
    signals: () => service.accepted.map((r) => r.path.endsWith('/fail') ? 'fail' : r.path.endsWith('/start') ? 'start' : 'success'),
  }
}
