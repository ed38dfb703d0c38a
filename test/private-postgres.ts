import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './helpers/process.ts'

/**
 * A PostgreSQL server of the test's own (initdb into a temporary directory, `pg_ctl` on a free
 * loopback port), for tests that stop, restart or cut the connections of the database server: the
 * shared server of the test run must never be touched that way.
 *
 * initdb refuses to run as root, so as root (CI) the directory belongs to the `postgres` OS user and
 * every server command runs as that user through `runuser`.
 */
export interface PrivatePostgres {
  readonly port: number
  /** A URL of database `name` (default `postgres`) on this server. */
  url(name?: string): string
  /** Create a database; answers its URL. */
  createDatabase(name: string): Promise<string>
  /** Stop the server (`fast`: connections are terminated, as in a restart). */
  stop(mode?: 'fast' | 'immediate'): void
  start(): void
  /** Stop it for good and remove its files. */
  destroy(): void
  /** The server's log, for failure messages. */
  log(): string
}

/** The directory of the newest installed PostgreSQL's programs. */
function binDir(): string {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(root, versions[0], 'bin')
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('no PostgreSQL server programs found (looked in /usr/lib/postgresql/*/bin and pg_config --bindir)')
  }
}

/** initdb and start a server in a new temporary directory. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir()
  const asRoot = userInfo().uid === 0
  const dir = mkdtempSync(join(tmpdir(), 'sb-private-pg-'))
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const port = await freePort()
  const run = (program: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args]
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: dir })
    if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : ''}`)
  }
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
  // A small, fast, throwaway server: no fsync, sockets only in its own directory, loopback TCP.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c shared_buffers=32MB`
  const start = () => run('pg_ctl', ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '60', 'start'])
  start()
  let destroyed = false
  const url = (name = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${name}`
  return {
    port,
    url,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url() })
      await c.connect()
      try {
        await c.query(`CREATE DATABASE ${name}`)
      } finally {
        await c.end()
      }
      return url(name)
    },
    stop(mode = 'fast') {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'])
    },
    start,
    destroy() {
      if (destroyed) return
      destroyed = true
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true })
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  }
}
