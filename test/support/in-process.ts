import { Aggregator, type AggregatorOptions } from '../../aggregator/aggregator.ts'
import { createLogger } from '../../shared/log.ts'
import { tempDir } from './processes.ts'

/** An aggregator in this process on loopback with ephemeral ports, quiet logs. */
export async function startTestAggregator (options: Partial<AggregatorOptions> = {}): Promise<Aggregator> {
  const aggregator = new Aggregator({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    http: { host: '127.0.0.1', port: 0 },
    dataDir: tempDir('hb-agg-'),
    logger: createLogger({ name: 'test-aggregator', level: (process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent' }),
    ...options,
  })
  await aggregator.start()
  return aggregator
}
