// A node's height over time, drawn with uPlot (bundled: the page loads nothing from elsewhere).
import uPlot from 'uplot'
import { formatCount, formatTick } from './format.ts'

/** Tick steps the time axis may use (seconds): whole seconds and clock-friendly steps, never fractions ("…:16.000"). */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800]
/** Height steps: whole blocks only, so no two ticks read the same. */
const HEIGHT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9]
/** Pixels between time ticks: a label ("14:05:30", about 50 px at 11 px) never touches the next. */
const TIME_TICK_SPACE_PX = 72

function cssVar (name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  return value === '' ? fallback : value
}

export class HeightChart {
  private plot: uPlot | undefined
  private readonly container: HTMLElement
  private readonly resize: ResizeObserver
  private data: [number[], number[]] = [[], []]
  private scheme = ''

  constructor (container: HTMLElement) {
    this.container = container
    this.resize = new ResizeObserver(() => {
      const width = this.width()
      if (this.plot !== undefined && Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: this.plot.height })
    })
    this.resize.observe(container)
  }

  private width (): number {
    return Math.max(200, Math.floor(this.container.clientWidth))
  }

  /** Times in ms (aggregator clock) and heights, ascending in time. */
  setData (times: number[], heights: number[]): void {
    this.data = [times.map((t) => t / 1000), heights.slice()]
    // Colours come from the page's CSS: rebuild when light/dark flips.
    const scheme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
    if (this.plot === undefined || scheme !== this.scheme) {
      this.scheme = scheme
      this.create()
    } else {
      this.plot.setData(this.data)
    }
  }

  private create (): void {
    this.plot?.destroy()
    const text = cssVar('--muted', '#57606a')
    const grid = cssVar('--grid', 'rgba(128,128,128,0.15)')
    const line = cssVar('--accent', '#0969da')
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' }
    this.plot = new uPlot({
      width: this.width(),
      height: 180,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => min === max ? [min - 1, max + 1] : [min, max] } },
      series: [
        {},
        { label: 'Height', stroke: line, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: false } },
      ],
      axes: [
        { ...axis, space: TIME_TICK_SPACE_PX, incrs: TIME_STEPS, values: (_u, splits, _axis, _space, step) => splits.map((v) => formatTick(v, step)) },
        // Wide enough for the longest label: heights run to nine digits and more.
        { ...axis, space: 28, incrs: HEIGHT_STEPS, size: (_u, values) => 18 + 7 * Math.max(4, ...(values ?? []).map((v) => v.length)), values: (_u, splits) => splits.map((v) => formatCount(v)) },
      ],
    }, this.data, this.container)
  }

  destroy (): void {
    this.resize.disconnect()
    this.plot?.destroy()
    this.plot = undefined
  }
}
