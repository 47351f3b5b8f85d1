// The files the fleet page is served from, by code-root-relative path (see
// shared/package-files.ts): the same names in a clone, in dist/ and as assets
// of a single executable. The build (aggregator/web/build.ts) writes the bundle;
// the packaging scripts ship exactly these files.

/** What the page build writes into aggregator/web/dist/. */
export const BUNDLE_FILES = { script: 'app.js', style: 'app.css', meta: 'build-meta.json' } as const

/** The page's static files beside the bundle (copied as they are). */
export const STATIC_PAGE_FILES = ['aggregator/web/index.html', 'aggregator/web/favicon.svg'] as const

/** The bundle's files (made by the build). */
export const BUNDLED_PAGE_FILES = [`aggregator/web/dist/${BUNDLE_FILES.script}`, `aggregator/web/dist/${BUNDLE_FILES.style}`] as const

/** URL path -> the file it serves, its type, and (for the route list) what it is. Nothing else is served: no directory walking. */
export const PAGE_ROUTES: Record<string, { file: string, type: string, summary?: string }> = {
  '/': { file: 'aggregator/web/index.html', type: 'text/html; charset=utf-8', summary: 'the fleet page' },
  '/assets/app.js': { file: `aggregator/web/dist/${BUNDLE_FILES.script}`, type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: `aggregator/web/dist/${BUNDLE_FILES.style}`, type: 'text/css; charset=utf-8' },
  '/assets/favicon.svg': { file: 'aggregator/web/favicon.svg', type: 'image/svg+xml' },
}
