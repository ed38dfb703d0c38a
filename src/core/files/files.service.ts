import { createHmac, timingSafeEqual } from 'node:crypto'
import { Readable } from 'node:stream'
import { AppError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import { deriveKey } from '../../lib/secrets.ts'
import type { TenantId } from '../tenants/index.ts'
import { isFileKey, isFilePurpose, newFileKey, normalizeMediaType, tenantOfKey } from './files.keys.ts'
import {
  StoreTooLargeError,
  type CreateUploadInput, type DownloadTicket, type FileContent, type FileInfo, type FileKey, type FilesOptions, type FileStore,
  type FormUploadTicket, type PutFileInput, type SignedDownload, type SignedUpload, type UploadTicket,
} from './files.types.ts'

/** The path the files surface serves signed URLs under. */
export const FILES_PATH = '/files'

/** What a content type is signed as when the upload URL leaves it to the client. */
const ANY_TYPE = '*'
const DEFAULT_TYPE = 'application/octet-stream'
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/
const DIGITS = /^\d{1,15}$/

/**
 * Attachments: presigned upload URLs for clients (chat photos and videos), server-side stores
 * (agents' attachments), signed download URLs, and the checks of the files surface that serves
 * those URLs. Every method a caller uses takes the tenant first and treats another tenant's key
 * as not found; the signed-URL checks take none, because the key names its tenant and the
 * signature proves we issued the URL for exactly that key.
 *
 * URLs are signed with HMAC-SHA256 under a key derived from the master key, over the method, the
 * key, the expiry and, for uploads, the bound content type and the size limit.
 */
export class FilesService {
  readonly #store: FileStore
  readonly #signingKey: Buffer
  readonly #base: string
  readonly #maxBytes: number
  readonly #urlSeconds: number
  readonly #now: () => Date

  constructor(options: FilesOptions) {
    this.#store = options.store
    this.#signingKey = deriveKey(options.secretKey, 'files-url-v1')
    this.#base = options.publicUrl.replace(/\/$/, '') + FILES_PATH
    this.#maxBytes = options.maxBytes
    this.#urlSeconds = options.urlSeconds
    this.#now = options.now ?? (() => new Date())
  }

  /** The largest file accepted. */
  get maxBytes(): number {
    return this.#maxBytes
  }

  /** A presigned PUT for a new file of `tenantId` (the contact-center API's `UploadUrl`). */
  async createUpload(tenantId: TenantId, input: CreateUploadInput): Promise<UploadTicket> {
    const purpose = this.#purpose(input.purpose)
    const contentType = input.contentType === undefined ? undefined : this.#contentType(input.contentType)
    const maxBytes = this.#limit(input.maxBytes)
    const key = newFileKey(tenantId, purpose, contentType)
    const expiresAt = this.#expiry()
    const direct = this.#store.presignPut?.(key, { contentType, expiresAt })
    if (direct) return { key, url: direct.url, method: 'PUT', headers: direct.headers, expiresAt, maxBytes }
    const expires = String(expiresAt.getTime() / 1000)
    const signature = this.#sign(uploadText(key, expires, contentType ?? ANY_TYPE, String(maxBytes)))
    const url = `${this.#base}/${key}?${new URLSearchParams({ expires, max: String(maxBytes), signature })}`
    return { key, url, method: 'PUT', headers: contentType ? { 'content-type': contentType } : {}, expiresAt, maxBytes }
  }

  /**
   * A form upload for a new file of `tenantId` (the messaging API's upload ticket): always through
   * the files surface (`POST /files/`), whatever the store, so the size limit holds on S3 too. Its
   * signature is the upload URL's: the same fields also take a PUT to `/files/<key>?…`.
   */
  createFormUpload(tenantId: TenantId, input: CreateUploadInput): FormUploadTicket {
    const purpose = this.#purpose(input.purpose)
    const contentType = input.contentType === undefined ? undefined : this.#contentType(input.contentType)
    const maxBytes = this.#limit(input.maxBytes)
    const key = newFileKey(tenantId, purpose, contentType)
    const expiresAt = this.#expiry()
    const expires = String(expiresAt.getTime() / 1000)
    const signature = this.#sign(uploadText(key, expires, contentType ?? ANY_TYPE, String(maxBytes)))
    const fields: Record<string, string> = { key, ...(contentType ? { 'Content-Type': contentType } : {}), expires, max: String(maxBytes), signature }
    return { key, url: `${this.#base}/`, fields, expiresAt, maxBytes }
  }

  /** Store a file of `tenantId` from the server side (an agent's attachment). */
  async put(tenantId: TenantId, input: PutFileInput): Promise<FileInfo> {
    const purpose = this.#purpose(input.purpose)
    const contentType = this.#contentType(input.contentType)
    const maxBytes = this.#limit(input.maxBytes)
    if ((input.bytes === undefined) === (input.stream === undefined)) {
      throw new ValidationError('invalid_file_options', 'Give either bytes or a stream', { field: 'bytes' })
    }
    if (input.bytes !== undefined && input.bytes.length > maxBytes) throw tooLarge(maxBytes)
    const body = input.stream ?? Readable.from([Buffer.from(input.bytes!)])
    try {
      return await this.#write(newFileKey(tenantId, purpose, contentType), body, contentType, maxBytes)
    } catch (err) {
      // The stream was handed over: a refused one is not read further.
      body.destroy()
      throw err
    }
  }

  /** The file's facts, or undefined when `tenantId` has no file under `key`. */
  async stat(tenantId: TenantId, key: string): Promise<FileInfo | undefined> {
    if (!this.#owns(tenantId, key)) return undefined
    return this.#store.head(key)
  }

  /** The file to read (the caller consumes or destroys the stream); `file_not_found` when there is none. */
  async read(tenantId: TenantId, key: string): Promise<FileContent> {
    const file = this.#owns(tenantId, key) ? await this.#store.get(key) : undefined
    if (!file) throw notFound(key)
    return file
  }

  /** Up to `limit` leading bytes of the file (enough to tell its type, or a bounded whole); `file_not_found` when there is none. */
  async readHead(tenantId: TenantId, key: string, limit: number): Promise<Buffer> {
    const file = await this.read(tenantId, key)
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of file.stream) {
        chunks.push(chunk as Buffer)
        size += (chunk as Buffer).length
        if (size >= limit) break
      }
    } finally {
      file.stream.destroy()
    }
    return Buffer.concat(chunks).subarray(0, limit)
  }

  /** A signed GET URL for a file of `tenantId`; `file_not_found` when there is none. */
  async downloadUrl(tenantId: TenantId, key: string): Promise<DownloadTicket> {
    if (!(await this.stat(tenantId, key))) throw notFound(key)
    const expiresAt = this.#expiry()
    const direct = this.#store.presignGet?.(key, { expiresAt })
    if (direct) return { url: direct, expiresAt }
    const expires = String(expiresAt.getTime() / 1000)
    const signature = this.#sign(downloadText(key, expires))
    return { url: `${this.#base}/${key}?${new URLSearchParams({ expires, signature })}`, expiresAt }
  }

  /**
   * A signed GET URL for a key of `tenantId` the caller knows is stored (an attached chat photo),
   * without asking the store first: for lists that show many files. `file_not_found` for another
   * tenant's key.
   */
  signedDownload(tenantId: TenantId, key: string): DownloadTicket {
    if (!this.#owns(tenantId, key)) throw notFound(key)
    const expiresAt = this.#expiry()
    const direct = this.#store.presignGet?.(key, { expiresAt })
    if (direct) return { url: direct, expiresAt }
    const expires = String(expiresAt.getTime() / 1000)
    const signature = this.#sign(downloadText(key, expires))
    return { url: `${this.#base}/${key}?${new URLSearchParams({ expires, signature })}`, expiresAt }
  }

  /** Remove a file of `tenantId`; false when there was none. */
  async delete(tenantId: TenantId, key: string): Promise<boolean> {
    if (!this.#owns(tenantId, key)) return false
    return this.#store.delete(key)
  }

  /**
   * Accept the body of a signed upload URL: the key, the signature (against the request's
   * Content-Type, or a URL that left the type open), the expiry and the size, then the bytes.
   * Nothing is stored unless every check passes and the whole body arrived within the limit.
   */
  async acceptUpload(upload: SignedUpload): Promise<FileInfo> {
    const key = this.#key(upload.key)
    const given = upload.contentType === undefined || upload.contentType.trim() === '' ? undefined : normalizeMediaType(upload.contentType)
    if (!SIGNATURE.test(upload.signature) || !DIGITS.test(upload.expires) || !DIGITS.test(upload.maxBytes)) throw badSignature()
    const bound = given !== undefined && this.#verify(uploadText(key, upload.expires, given, upload.maxBytes), upload.signature)
    if (!bound && !this.#verify(uploadText(key, upload.expires, ANY_TYPE, upload.maxBytes), upload.signature)) throw badSignature()
    this.#checkExpiry(upload.expires)
    // The signed limit, or a lower one configured since the URL was issued.
    const maxBytes = Math.min(Number(upload.maxBytes), this.#maxBytes)
    if (upload.contentLength !== undefined && upload.contentLength > maxBytes) throw tooLarge(maxBytes)
    return this.#write(key, upload.body, given ?? DEFAULT_TYPE, maxBytes)
  }

  /** Open the file of a signed download URL (after the key, signature and expiry checks). */
  async openDownload(download: SignedDownload): Promise<FileContent> {
    const key = this.#key(download.key)
    if (!SIGNATURE.test(download.signature) || !DIGITS.test(download.expires)) throw badSignature()
    if (!this.#verify(downloadText(key, download.expires), download.signature)) throw badSignature()
    this.#checkExpiry(download.expires)
    const file = await this.#store.get(key)
    if (!file) throw notFound(key)
    return file
  }

  async #write(key: FileKey, body: Readable, contentType: string, maxBytes: number): Promise<FileInfo> {
    try {
      return await this.#store.put(key, body, { contentType, maxBytes })
    } catch (err) {
      if (err instanceof StoreTooLargeError) throw tooLarge(maxBytes)
      throw err
    }
  }

  #owns(tenantId: TenantId, key: string): boolean {
    const owner = tenantOfKey(key)
    return owner !== undefined && owner === tenantId.toLowerCase()
  }

  #key(key: string): FileKey {
    if (!isFileKey(key)) throw new ValidationError('invalid_file_key', 'Not a file key (expected <tenant>/<purpose>/<id>[.<ext>])', { key: key.slice(0, 200) })
    return key
  }

  #purpose(purpose: string): string {
    if (!isFilePurpose(purpose)) {
      throw new ValidationError('invalid_file_options', 'purpose must be lowercase letters, digits and dashes, starting with a letter (at most 32)', { field: 'purpose' })
    }
    return purpose
  }

  #contentType(raw: string): string {
    const type = normalizeMediaType(raw)
    if (!type) throw new ValidationError('invalid_file_options', `content type ${JSON.stringify(raw.slice(0, 100))} is not a media type like image/png`, { field: 'contentType' })
    return type
  }

  #limit(maxBytes: number | undefined): number {
    if (maxBytes === undefined) return this.#maxBytes
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > this.#maxBytes) {
      throw new ValidationError('invalid_file_options', `maxBytes must be an integer from 1 to ${this.#maxBytes}`, { field: 'maxBytes' })
    }
    return maxBytes
  }

  /** Now plus the URL lifetime, in whole seconds (the URL carries seconds). */
  #expiry(): Date {
    return new Date((Math.floor(this.#now().getTime() / 1000) + this.#urlSeconds) * 1000)
  }

  #checkExpiry(expires: string): void {
    const at = Number(expires) * 1000
    if (this.#now().getTime() >= at) {
      throw new ForbiddenError('file_url_expired', `This file URL expired at ${new Date(at).toISOString()}; ask for a new one`, { expiredAt: new Date(at).toISOString() })
    }
  }

  #sign(text: string): string {
    return createHmac('sha256', this.#signingKey).update(text, 'utf8').digest('base64url')
  }

  #verify(text: string, signature: string): boolean {
    const expected = Buffer.from(this.#sign(text))
    const given = Buffer.from(signature)
    return expected.length === given.length && timingSafeEqual(expected, given)
  }
}

// One line per signed field, the method first, so an upload signature never verifies a download.
const uploadText = (key: string, expires: string, contentType: string, maxBytes: string) => ['PUT', key, expires, contentType, maxBytes].join('\n')
const downloadText = (key: string, expires: string) => ['GET', key, expires].join('\n')

const badSignature = () => new ForbiddenError('bad_file_signature', 'The signature does not match this URL: it was altered, or the upload was sent with another Content-Type than the one it was issued for')
const notFound = (key: string) => new NotFoundError('file_not_found', 'No such file', { key })
const tooLarge = (maxBytes: number): AppError<'file_too_large'> => new ValidationError('file_too_large', `The file is larger than the limit of ${maxBytes} bytes`, { maxBytes })
