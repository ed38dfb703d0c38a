import sharp from 'sharp'

/**
 * Thumbnails of images with sharp (libvips; its prebuilt binaries are npm packages, so it installs
 * from the npm registry alone). Knows nothing of core; the composition root adapts it to core's
 * `Thumbnailer` port.
 */

/** The longest side of a thumbnail, in pixels. */
export const THUMBNAIL_EDGE = 320
/** Images larger than this many pixels are not decoded (a decompression bomb is refused cheaply). */
const MAX_INPUT_PIXELS = 50_000_000

// One image at a time per call, no cache of decoded images kept between calls.
sharp.cache(false)

/** An image that could not be decoded (corrupt, truncated, too large, or not an image at all). */
export class UnreadableImageError extends Error {
  constructor(cause: unknown) {
    super(`not a readable image: ${(cause as Error).message}`)
    this.name = 'UnreadableImageError'
  }
}

/**
 * A JPEG thumbnail of `image`: turned upright (EXIF orientation), fitted inside
 * THUMBNAIL_EDGE × THUMBNAIL_EDGE without enlarging, transparency flattened onto white, metadata
 * dropped. The first frame of an animation.
 */
export async function jpegThumbnail(image: Buffer): Promise<{ bytes: Buffer; contentType: 'image/jpeg'; width: number; height: number }> {
  try {
    const { data, info } = await sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .rotate()
      .resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80, mozjpeg: true })
      .toBuffer({ resolveWithObject: true })
    return { bytes: data, contentType: 'image/jpeg', width: info.width, height: info.height }
  } catch (err) {
    throw new UnreadableImageError(err)
  }
}
