import { randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isFileKey } from './files.keys.ts'
import { StoreTooLargeError, type FileContent, type FileInfo, type FileKey, type FileStore, type StorePutOptions } from './files.types.ts'

/** What a file's sidecar holds (the bytes are the file itself). */
interface Meta { contentType: string }

const DEFAULT_TYPE = 'application/octet-stream'
/** A temporary file this old is left over from a process that died mid-upload. */
const STALE_TMP_MS = 24 * 3600_000

/**
 * Files in a local directory: `<root>/<tenant>/<purpose>/<uuid>[.<ext>]`, with the media type in a
 * `<file>.meta.json` sidecar (a name no key can have). A write goes to `<root>/.tmp/` first and is
 * renamed into place once complete and within its limit, so a reader never sees half a file and a
 * refused upload leaves nothing. The directory is created on first write, so a process that never
 * stores a file never touches the disk.
 */
export class LocalFileStore implements FileStore {
  readonly #root: string
  #swept = false

  constructor(root: string) {
    this.#root = resolve(root)
  }

  /**
   * Remove temporary files of uploads that a crash interrupted (once per process, on its first
   * write): younger ones may be another process's uploads in progress.
   */
  async #sweep(tmpDir: string): Promise<void> {
    if (this.#swept) return
    this.#swept = true
    const cutoff = Date.now() - STALE_TMP_MS
    for (const name of await readdir(tmpDir)) {
      const path = join(tmpDir, name)
      const st = await stat(path).catch(notFound)
      if (st && st.mtimeMs < cutoff) await rm(path, { force: true })
    }
  }

  /** The file's path; refuses anything but a well-formed key, and checks the result stays under the root. */
  #path(key: FileKey): string {
    if (!isFileKey(key)) throw new Error(`not a file key: ${JSON.stringify(key)}`)
    const path = join(this.#root, ...key.split('/'))
    // The key pattern already rules out `..` and absolute paths; this holds should it ever change.
    if (!path.startsWith(this.#root + sep)) throw new Error(`file key escapes the store: ${JSON.stringify(key)}`)
    return path
  }

  async put(key: FileKey, body: Readable, options: StorePutOptions): Promise<FileInfo> {
    const path = this.#path(key)
    const tmpDir = join(this.#root, '.tmp')
    await mkdir(tmpDir, { recursive: true })
    await this.#sweep(tmpDir)
    const tmp = join(tmpDir, randomUUID())
    let size = 0
    const limit = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length
        // Stop at the first byte over the limit: the rest of an oversized body is never written.
        if (size > options.maxBytes) done(new StoreTooLargeError(options.maxBytes))
        else done(null, chunk)
      },
    })
    try {
      // The file exists before any byte is written, so the clean-up below always finds it.
      const handle = await open(tmp, 'wx', 0o600)
      const written = pipeline(limit, handle.createWriteStream())
      // The body is piped, not part of the pipeline: a refusal must not destroy it, because the
      // body of an HTTP upload is the request, and destroying it would reset the connection
      // before the client hears the 413.
      const interrupted = (err?: Error) => limit.destroy(err ?? new Error('the upload ended before its body did'))
      const closed = () => body.readableEnded || interrupted()
      body.once('error', interrupted)
      body.once('close', closed)
      body.pipe(limit)
      try {
        await written
      } finally {
        body.unpipe(limit)
        body.off('error', interrupted)
        body.off('close', closed)
      }
      await mkdir(join(path, '..'), { recursive: true })
      // The sidecar first: a file whose sidecar is missing still reads (as octet-stream); a sidecar
      // without its file is no file.
      await writeFile(`${tmp}.meta.json`, JSON.stringify({ contentType: options.contentType } satisfies Meta), { mode: 0o600 })
      await rename(`${tmp}.meta.json`, `${path}.meta.json`)
      await rename(tmp, path)
    } finally {
      await rm(tmp, { force: true })
      await rm(`${tmp}.meta.json`, { force: true })
    }
    return { key, size, contentType: options.contentType }
  }

  async head(key: FileKey): Promise<FileInfo | undefined> {
    const path = this.#path(key)
    const st = await stat(path).catch(notFound)
    if (!st?.isFile()) return undefined
    return { key, size: st.size, contentType: await this.#contentType(path) }
  }

  async get(key: FileKey): Promise<FileContent | undefined> {
    const path = this.#path(key)
    // Open first, then stat the open file: a concurrent replace cannot mix one file's size with another's bytes.
    const handle = await open(path, 'r').catch(notFound)
    if (!handle) return undefined
    try {
      const st = await handle.stat()
      if (!st.isFile()) {
        await handle.close()
        return undefined
      }
      const contentType = await this.#contentType(path)
      return { key, size: st.size, contentType, stream: handle.createReadStream({ autoClose: true }) }
    } catch (err) {
      await handle.close()
      throw err
    }
  }

  async delete(key: FileKey): Promise<boolean> {
    const path = this.#path(key)
    const existed = await stat(path).then(() => true, (err: unknown) => notFound(err) ?? false)
    await rm(path, { force: true })
    await rm(`${path}.meta.json`, { force: true })
    return existed
  }

  async #contentType(path: string): Promise<string> {
    const text = await readFile(`${path}.meta.json`, 'utf8').catch(notFound)
    if (text === undefined) return DEFAULT_TYPE
    const meta = JSON.parse(text) as Partial<Meta>
    return typeof meta.contentType === 'string' ? meta.contentType : DEFAULT_TYPE
  }
}

/** `undefined` for a missing file (or a path through a non-directory); anything else is rethrown. */
function notFound(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
  throw err
}
