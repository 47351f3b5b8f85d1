import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'

/** The one place that maps errors to HTTP replies: `{error: {code, message}}`. */
const STATUS_BY_CODE: Partial<Record<string, number>> = {
  [ErrorCodes.NODE_NOT_FOUND]: 404,
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.ADMIN_DISABLED]: 403,
  [ErrorCodes.FEED_FULL]: 503,
  [ErrorCodes.STORE_UNAVAILABLE]: 503,
  [ErrorCodes.FORBIDDEN_ORIGIN]: 403,
  [ErrorCodes.SIGNIN_DISABLED]: 403,
}

export function errorHandler (err: FastifyError | Error, _request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof HeartbeatError) {
    void reply.status(STATUS_BY_CODE[err.code] ?? 500).send({ error: { code: err.code, message: err.message } })
    return
  }
  const fastifyError = err as FastifyError
  const status = fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 ? fastifyError.statusCode : 500
  const message = status >= 500 ? 'internal error' : err.message
  void reply.status(status).send({ error: { code: fastifyError.code ?? 'ERR_INTERNAL', message } })
}

export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error: { code: 'ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } })
}
