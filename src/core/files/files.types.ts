import type { Readable } from 'node:stream'

/**
 * What a file is for, the middle segment of its key (`chat-media`, `attachment`): lowercase
 * letters, digits and dashes, starting with a letter, at most 32 characters.
 */
export type FilePurpose = string

/** A file's key: `<tenant id>/<purpose>/<uuid>[.<ext>]` (the contact-center API calls it `s3_path`). */
export type FileKey = string

/** A stored file's facts. */
export interface FileInfo {
  readonly key: FileKey
  readonly size: number
  readonly contentType: string
}

/** A stored file to read: its bytes as a stream (the caller consumes or destroys it) and its facts. */
export interface FileContent extends FileInfo {
  readonly stream: Readable
}

/**
 * A presigned upload: PUT the bytes to `url` with `headers` before `expiresAt`. The shape of the
 * contact-center API's `UploadUrl` (`{url, s3_path, method, headers, expires_at}`) in camelCase.
 */
export interface UploadTicket {
  readonly key: FileKey
  readonly url: string
  readonly method: 'PUT'
  readonly headers: Readonly<Record<string, string>>
  readonly expiresAt: Date
  /** The largest body the URL accepts. */
  readonly maxBytes: number
}

/**
 * A form upload, as S3's presigned POST: POST `multipart/form-data` to `url` with every member of
 * `fields` as a form field and then the file as the field `file` (`curl -F k=v … -F file=@x url`).
 * The same signature takes a PUT of the bytes to `<url><key>?expires=…&max=…&signature=…` too.
 */
export interface FormUploadTicket {
  readonly key: FileKey
  readonly url: string
  readonly fields: Readonly<Record<string, string>>
  readonly expiresAt: Date
  readonly maxBytes: number
}

/** A presigned download: GET `url` before `expiresAt`. */
export interface DownloadTicket {
  readonly url: string
  readonly expiresAt: Date
}

/** Input of `FilesService.createUpload`. */
export interface CreateUploadInput {
  readonly purpose: FilePurpose
  /** When given, the upload must carry this Content-Type (it is signed into the URL). */
  readonly contentType?: string | undefined
  /** At most the configured limit (which is also the default). */
  readonly maxBytes?: number | undefined
}

/** Input of `FilesService.put`: a server-side store (an agent's attachment). */
export interface PutFileInput {
  readonly purpose: FilePurpose
  readonly contentType: string
  /** The bytes, whole or as a stream. */
  readonly bytes?: Uint8Array | undefined
  readonly stream?: Readable | undefined
  /** At most the configured limit (which is also the default). */
  readonly maxBytes?: number | undefined
}

/** A signed upload as it arrives at the files surface (the query string and the request's headers). */
export interface SignedUpload {
  readonly key: string
  readonly expires: string
  readonly maxBytes: string
  readonly signature: string
  /** The request's Content-Type, if any. */
  readonly contentType: string | undefined
  /** The request's Content-Length, if any (a chunked upload has none). */
  readonly contentLength: number | undefined
  readonly body: Readable
}

/** A signed download as it arrives at the files surface. */
export interface SignedDownload {
  readonly key: string
  readonly expires: string
  readonly signature: string
}

/** Options of a store's write. */
export interface StorePutOptions {
  readonly contentType: string
  /** Refuse (and keep nothing of) a body longer than this. */
  readonly maxBytes: number
}

/**
 * Where file bytes live: the local directory by default, an S3-compatible bucket for scale. Keys
 * reach a store already validated; a store keeps no partial file (a refused or broken write leaves
 * nothing behind). `presign*` are for stores clients can reach directly (S3); the local store has
 * none, and the service signs URLs of its own files surface instead.
 */
export interface FileStore {
  /** Store `body` under `key`, replacing what was there; throws `StoreTooLargeError` beyond `maxBytes`. */
  put(key: FileKey, body: Readable, options: StorePutOptions): Promise<FileInfo>
  /** The file's facts, or undefined when there is none. */
  head(key: FileKey): Promise<FileInfo | undefined>
  /** The file to read, or undefined when there is none. */
  get(key: FileKey): Promise<FileContent | undefined>
  /** Remove the file; false when there was none. */
  delete(key: FileKey): Promise<boolean>
  /** A URL a client PUTs to directly, with the headers it must send. */
  presignPut?(key: FileKey, options: { contentType: string | undefined; expiresAt: Date }): { url: string; headers: Record<string, string> }
  /** A URL a client GETs directly. */
  presignGet?(key: FileKey, options: { expiresAt: Date }): string
}

/** A store's refusal of a body over the limit (the service turns it into `file_too_large`). */
export class StoreTooLargeError extends Error {
  readonly maxBytes: number
  constructor(maxBytes: number) {
    super(`the file is larger than ${maxBytes} bytes`)
    this.name = 'StoreTooLargeError'
    this.maxBytes = maxBytes
  }
}

/** Options of the files service. */
export interface FilesOptions {
  readonly store: FileStore
  /** The master key; the URL-signing key is derived from it. */
  readonly secretKey: Buffer
  /** Base of signed URLs of the files surface (`<publicUrl>/files/<key>`). */
  readonly publicUrl: string
  /** The largest file, and the default limit of an upload URL. */
  readonly maxBytes: number
  /** Lifetime of signed URLs, in seconds. */
  readonly urlSeconds: number
  /** The clock (tests move it). */
  readonly now?: () => Date
}

