export { FilesService, FILES_PATH } from './files.service.ts'
export { LocalFileStore } from './local-store.ts'
export { isFileKey, tenantOfKey, normalizeMediaType } from './files.keys.ts'
export { StoreTooLargeError } from './files.types.ts'
export type {
  FileStore, FileInfo, FileContent, FileKey, FilePurpose, UploadTicket, DownloadTicket, CreateUploadInput, PutFileInput,
  SignedUpload, SignedDownload, StorePutOptions, FilesOptions, FormUploadTicket,
} from './files.types.ts'
export { sniffMediaType, fitsDeclaredType, SNIFF_BYTES, THUMBNAIL_TYPES } from './sniff.ts'
