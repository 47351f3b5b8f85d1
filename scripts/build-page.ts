// npm run build:page (and `prepare`, so `npm install` leaves a servable page):
// bundles the fleet page into aggregator/web/dist.
import { buildPage, DIST_DIR } from '../aggregator/web/build.ts'

const { ms, bytes } = await buildPage()
console.log(`fleet page built in ${ms} ms: ${DIST_DIR} (app.js ${(bytes.script / 1024).toFixed(1)} KiB, app.css ${(bytes.style / 1024).toFixed(1)} KiB)`)
