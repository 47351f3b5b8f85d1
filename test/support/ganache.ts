
export interface DevNode {
  url: string
  port: number
  /** Mines `count` empty blocks (evm_mine). */
  mine: (count?: number) => Promise<void>
  /** The latest block as the node itself reports it. */
  latest: () => Promise<{ hash: string, number: number }>
  close: () => Promise<void>
}

/**
 * A real Ethereum JSON-RPC development node (Ganache) on 127.0.0.1. It mines
 * only when asked, so tests decide when the chain moves.
 */
export async function startDevNode (port = 0): Promise<DevNode> {
  const ganache = await loadGanache()
  const server = ganache.server({ logging: { quiet: true }, wallet: { totalAccounts: 1 }, chain: { chainId: 1337 } })
  await server.listen(port, '127.0.0.1')
  const address = server.address() as { port: number }
  let closed = false
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    mine: async (count = 1) => {
      for (let i = 0; i < count; i++) await server.provider.request({ method: 'evm_mine', params: [] })
    },
    latest: async () => {
      const block = await server.provider.request({ method: 'eth_getBlockByNumber', params: ['latest', false] }) as { hash: string, number: string }
      return { hash: block.hash, number: Number(block.number) }
    },
    close: async () => {
      if (closed) return
      closed = true
      await server.close()
    },
  }
}

type Ganache = typeof import('ganache').default
let loaded: Ganache | undefined

/**
 * Ganache's bundled µWS has no binary for this Node and says so loudly on
 * load before falling back to plain Node http: keep that out of test output.
 */
async function loadGanache (): Promise<Ganache> {
  if (loaded !== undefined) return loaded
  const saved = { log: console.log, warn: console.warn, error: console.error }
  console.log = console.warn = console.error = () => {}
  try {
    loaded = (await import('ganache')).default
  } finally {
    Object.assign(console, saved)
  }
  return loaded
}
