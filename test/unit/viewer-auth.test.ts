import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { describe, it } from 'node:test'
import type { FastifyRequest } from 'fastify'
import { AdminAuth } from '../../aggregator/http/admin-auth.ts'
import { readCookie, SESSION_COOKIE, ViewerAuth } from '../../aggregator/http/viewer-auth.ts'
import { ManualClock } from '../support/manual-clock.ts'

const ADMIN = 'admin-token-0123456789abcdef'
const VIEWER = 'viewer-token-0123456789abcdef'

function request (headers: Record<string, string>, protocol: 'http' | 'https' = 'http'): FastifyRequest {
  return { headers, protocol } as unknown as FastifyRequest
}

function auth (clock = new ManualClock(), options: { maxSessions?: number, publicUrl?: string } = {}): { auth: ViewerAuth, clock: ManualClock } {
  let n = 0
  const random = (size: number): Buffer => Buffer.alloc(size, ++n)
  return { auth: new ViewerAuth({ admin: new AdminAuth(ADMIN), viewerToken: VIEWER, clock, random, ...options }), clock }
}

const withCookie = (id: string, more: Record<string, string> = {}): FastifyRequest => request({ cookie: `other=1; ${SESSION_COOKIE}=${id}; x=2`, ...more })

describe('viewer sign-in', () => {
  it('reads one cookie from a Cookie header', () => {
    assert.equal(readCookie('a=1; hb_session=abc; b=2', 'hb_session'), 'abc')
    assert.equal(readCookie('hb_session="quoted"', 'hb_session'), 'quoted')
    assert.equal(readCookie('xhb_session=no', 'hb_session'), undefined)
    assert.equal(readCookie(undefined, 'hb_session'), undefined)
    assert.equal(readCookie('junk; =; hb_session', 'hb_session'), undefined)
  })

  it('knows the admin and viewer tokens apart; anything else is nobody', () => {
    const { auth: a } = auth()
    assert.equal(a.roleOfToken(`Bearer ${ADMIN}`), 'admin')
    assert.equal(a.roleOfToken(`Bearer ${VIEWER}`), 'viewer')
    assert.equal(a.roleOfToken('Bearer nope-nope-nope-nope'), undefined)
    assert.equal(a.roleOfToken(VIEWER), undefined, 'the Bearer scheme is required')
    assert.equal(a.roleOfToken(undefined), undefined)
  })

  it('holds sessions server-side until they expire (monotonic time) or are closed', () => {
    const { auth: a, clock } = auth()
    const { id, info } = a.open('viewer')
    assert.equal(info.role, 'viewer')
    assert.equal(a.roleOf(withCookie(id)), 'viewer')
    assert.equal(a.roleOf(withCookie(`${id}x`)), undefined)
    // A wall-clock step changes nothing; monotonic time ends the session.
    clock.stepWall(48 * 3_600_000)
    assert.equal(a.roleOf(withCookie(id)), 'viewer')
    clock.advance(a.ttlMs - 1)
    assert.equal(a.roleOf(withCookie(id)), 'viewer')
    clock.advance(1)
    assert.equal(a.roleOf(withCookie(id)), undefined)
    assert.equal(a.size, 0)

    const second = a.open('admin')
    assert.equal(a.close(withCookie(second.id)), true)
    assert.equal(a.roleOf(withCookie(second.id)), undefined)
    assert.equal(a.close(withCookie(second.id)), false)
  })

  it('sweeps expired sessions and closes the live feeds opened with them', () => {
    const { auth: a, clock } = auth()
    const { id } = a.open('viewer')
    const res = Object.assign(new EventEmitter(), { destroyed: false })
    Object.assign(res, { destroy: () => { res.destroyed = true; res.emit('close') } })
    a.bindStream(withCookie(id), res as unknown as ServerResponse)
    clock.advance(a.ttlMs + 60_000)
    assert.equal(res.destroyed, true)
    assert.equal(a.size, 0)
  })

  it('keeps at most maxSessions: the oldest ends first', () => {
    const { auth: a } = auth(new ManualClock(), { maxSessions: 2 })
    const first = a.open('viewer')
    const second = a.open('viewer')
    const third = a.open('viewer')
    assert.equal(a.size, 2)
    assert.equal(a.roleOf(withCookie(first.id)), undefined)
    assert.equal(a.roleOf(withCookie(second.id)), 'viewer')
    assert.equal(a.roleOf(withCookie(third.id)), 'viewer')
  })

  it('sets an HttpOnly, SameSite=Strict cookie, Secure when the page is reached over https', () => {
    const { auth: a } = auth()
    const plain = a.cookie(request({}), 'abc')
    assert.match(plain, /^hb_session=abc; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/)
    assert.match(a.cookie(request({}, 'https'), 'abc'), /; Secure$/)
    assert.match(a.cookie(request({ 'x-forwarded-proto': 'https' }), 'abc'), /; Secure$/)
    assert.match(auth(new ManualClock(), { publicUrl: 'https://fleet.example.com' }).auth.cookie(request({}), 'abc'), /; Secure$/)
    assert.match(a.clearCookie(request({})), /Max-Age=0/)
  })

  it('accepts state-changing requests from the page\'s own origin only', () => {
    const { auth: a } = auth(new ManualClock(), { publicUrl: 'https://fleet.example.com' })
    assert.equal(a.sameOrigin(request({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }), true), true)
    assert.equal(a.sameOrigin(request({ host: 'proxy.internal:8080', origin: 'https://fleet.example.com' }), true), true, '--public-url behind a proxy')
    assert.equal(a.sameOrigin(request({ host: '127.0.0.1:8080', origin: 'https://evil.example' }), true), false)
    assert.equal(a.sameOrigin(request({ host: '127.0.0.1:8080', origin: 'null' }), false), false)
    assert.equal(a.sameOrigin(request({ host: '127.0.0.1:8080' }), false), true, 'no Origin: a script, allowed where a token is needed anyway')
    assert.equal(a.sameOrigin(request({ host: '127.0.0.1:8080' }), true), false, 'no Origin: refused where a cookie is what authenticates')
  })
})
