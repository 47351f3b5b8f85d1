import type { HttpRegistry } from './registry.ts'

export interface AdminRoutesOptions {
  /** What GET /api/v1/admin/security shows: refusals, penalties, ingest and feed counters, limits. */
  snapshot: () => unknown
  /** POST /api/v1/admin/reload-peers: what SIGHUP does. */
  reloadPeers: () => Promise<unknown>
}

/** The security admin routes (docs/security.md); both need the admin token. */
export function registerAdminRoutes (http: HttpRegistry, options: AdminRoutesOptions): void {
  http.route({ method: 'GET', path: '/api/v1/admin/security', admin: true, summary: 'refusals, penalties, ingest counters, limits', handler: async () => options.snapshot() })
  http.route({ method: 'POST', path: '/api/v1/admin/reload-peers', admin: true, summary: 're-read --allow-peers and --deny-peers (what SIGHUP does)', handler: async () => await options.reloadPeers() })
}
