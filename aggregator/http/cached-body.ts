import { promisify } from 'node:util'
import { brotliCompress, constants as zlib, gzip } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BROTLI_QUALITY, COMPRESS_MIN_BYTES, GZIP_LEVEL } from '../constants.ts'

export type ContentEncoding = 'br' | 'gzip'

const gzipAsync = promisify(gzip)
const brotliAsync = promisify(brotliCompress)

/**
 * One answer made once and served to every request until it is replaced:
 * its bytes, its ETag, and each compressed form made on first demand (off the
 * event loop, once, however many requests wait for it).
 */
export class CachedBody {
  readonly bytes: Buffer
  readonly type: string
  /** 200, or 503 for a failing fleet health document. */
  readonly statusCode: number
  private readonly tag: string
  private readonly weak: boolean
  private readonly encoded = new Map<ContentEncoding, Promise<Buffer>>()

  /**
   * `tag`: unique to these bytes (ETag characters only: letters, digits, `.`,
   * `-`, `_`), or with `weak` to what they mean: a weak ETag (`W/"…"`, RFC
   * 9110 8.8.1) for bodies that differ only in what time alone moves.
   */
  constructor (bytes: Buffer, tag: string, type: string, statusCode = 200, weak = false) {
    this.bytes = bytes
    this.tag = tag
    this.weak = weak
    this.type = type
    this.statusCode = statusCode
  }

  /** The ETag of one representation: each encoding is its own (a cache may hold them side by side). */
  etag (encoding?: ContentEncoding): string {
    const quoted = encoding === undefined ? `"${this.tag}"` : `"${this.tag}-${encoding}"`
    return this.weak ? `W/${quoted}` : quoted
  }

  /** Whether an If-None-Match header names this answer, in any representation (weak comparison, RFC 9110 13.1.2). */
  matches (ifNoneMatch: string | undefined): boolean {
    if (ifNoneMatch === undefined) return false
    if (ifNoneMatch.trim() === '*') return true
    const ours = new Set([this.etag(), this.etag('gzip'), this.etag('br')].map((tag) => tag.replace(/^W\//, '')))
    return ifNoneMatch.split(',').some((candidate) => ours.has(candidate.trim().replace(/^W\//, '')))
  }

  encode (encoding: ContentEncoding): Promise<Buffer> {
    let pending = this.encoded.get(encoding)
    if (pending === undefined) {
      pending = encoding === 'gzip'
        ? gzipAsync(this.bytes, { level: GZIP_LEVEL })
        : brotliAsync(this.bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: this.bytes.length } })
      this.encoded.set(encoding, pending)
      // A failure is not kept: the next request tries again.
      pending.catch(() => { this.encoded.delete(encoding) })
    }
    return pending
  }
}

/**
 * The encoding to answer with, from Accept-Encoding: brotli or gzip, the
 * higher q-value first (brotli on a tie: smaller at the same cost); none
 * when neither is acceptable (absent, `identity`, or q=0).
 */
export function negotiateEncoding (header: string | string[] | undefined): ContentEncoding | undefined {
  const text = Array.isArray(header) ? header.join(',') : header
  if (text === undefined || text === '') return undefined
  const weights = new Map<string, number>()
  for (const part of text.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    if (name === undefined || name === '') continue
    let q = 1
    for (const param of params) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(param)
      if (match !== null) q = Number(match[1])
    }
    weights.set(name, q)
  }
  const weightOf = (name: ContentEncoding): number => weights.get(name) ?? weights.get('*') ?? 0
  const br = weightOf('br')
  const gz = weightOf('gzip')
  if (br <= 0 && gz <= 0) return undefined
  return br >= gz ? 'br' : 'gzip'
}

/**
 * Answers with a cached body: 304 when If-None-Match names it (only for an
 * answer that would be 2xx, RFC 9110 13.2.1), else its bytes, compressed when
 * the client takes it and the body is worth it. `Cache-Control: no-cache`:
 * clients may keep it but ask again each time (a 304 costs nothing here).
 */
export async function sendCached (request: FastifyRequest, reply: FastifyReply, body: CachedBody): Promise<FastifyReply> {
  const encoding = body.bytes.length >= COMPRESS_MIN_BYTES ? negotiateEncoding(request.headers['accept-encoding']) : undefined
  // Vary adds to what CORS may have said (Origin).
  const vary = reply.getHeader('vary')
  reply.header('cache-control', 'no-cache').header('vary', vary === undefined ? 'Accept-Encoding' : `${String(vary)}, Accept-Encoding`).header('etag', body.etag(encoding))
  const ifNoneMatch = request.headers['if-none-match']
  if (body.statusCode < 300 && body.matches(ifNoneMatch)) return await reply.code(304).send()
  reply.code(body.statusCode).type(body.type)
  if (encoding === undefined) return await reply.send(body.bytes)
  const bytes = await body.encode(encoding)
  return await reply.header('content-encoding', encoding).send(bytes)
}
