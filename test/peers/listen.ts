import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listen on a free loopback port; resolves with the server's base URL. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Close the server and every connection to it, kept-alive ones included. */
export async function closeNow(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}
