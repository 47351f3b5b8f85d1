// A node's height over time, drawn with uPlot (bundled: the page loads nothing from elsewhere).
import uPlot from 'uplot'
import { formatCount } from './format.ts'

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
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'Height', stroke: line, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: false } },
      ],
      axes: [
        axis,
        // Wide enough for the longest label: heights run to nine digits and more.
        { ...axis, size: (_u, values) => 18 + 7 * Math.max(4, ...(values ?? []).map((v) => v.length)), values: (_u, values) => values.map((v) => formatCount(v)) },
      ],
    }, this.data, this.container)
  }

  destroy (): void {
    this.resize.disconnect()
    this.plot?.destroy()
    this.plot = undefined
  }
}
