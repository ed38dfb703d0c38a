import type { FastifyRequest } from 'fastify'
import { ORGANIZATION_VIEWER, type DirectoryViewer } from '../../core/messaging/index.ts'

const viewers = new WeakMap<FastifyRequest, DirectoryViewer>()

/** Record who the request acts as (a user token's user); the organisation key needs nothing. */
export function setViewer(req: FastifyRequest, viewer: DirectoryViewer): void {
  viewers.set(req, viewer)
}

/** Who the request acts as: the organisation (API key) unless a user token authenticated it. */
export function viewerOf(req: FastifyRequest): DirectoryViewer {
  return viewers.get(req) ?? ORGANIZATION_VIEWER
}
