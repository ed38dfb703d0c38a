import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3Peer, verifySigV4 } from '../../../test/peers/s3.ts'
import { presignUrl, S3Error, S3ObjectStore, S3ObjectTooLargeError, sigV4Signature, type S3Options } from './s3.ts'

// AWS's published Signature Version 4 examples for S3 (the "Authenticating Requests" pages: GET
// Object with a Range header; a presigned GET URL), then the store against the local S3 peer,
// which verifies signatures with code of its own.
const AWS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1', service: 's3' }
const AWS_AT = new Date('2013-05-24T00:00:00Z')
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

describe('Signature Version 4, on AWS’s examples', () => {
  it('signs GET Object with a Range header as AWS documents', () => {
    const sig = sigV4Signature({
      method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), payloadHash: EMPTY,
      headers: { range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' },
    }, AWS, AWS_AT)
    expect(sig).toEqual({ signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41', signedHeaders: 'host;range;x-amz-content-sha256;x-amz-date', scope: '20130524/us-east-1/s3/aws4_request' })
  })

  it('presigns a GET URL as AWS documents, and the peer verifies that URL', () => {
    const url = presignUrl('GET', new URL('https://examplebucket.s3.amazonaws.com/test.txt'), AWS, AWS_AT, 86400)
    expect(url).toBe('https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404')
    const u = new URL(url)
    const parts = { method: 'GET', path: u.pathname, query: u.search.slice(1), headers: { host: u.host } }
    const secrets = { [AWS.accessKeyId]: AWS.secretAccessKey }
    expect(verifySigV4(parts, secrets, 'us-east-1', new Date('2013-05-24T12:00:00Z'), EMPTY)).toBeUndefined()
    expect(verifySigV4(parts, secrets, 'us-east-1', new Date('2013-05-25T00:00:01Z'), EMPTY)).toMatchObject({ code: 'AccessDenied', message: 'Request has expired' })
    expect(verifySigV4({ ...parts, path: '/test2.txt' }, secrets, 'us-east-1', AWS_AT, EMPTY)).toMatchObject({ code: 'SignatureDoesNotMatch' })
    expect(verifySigV4(parts, { [AWS.accessKeyId]: 'another secret' }, 'us-east-1', AWS_AT, EMPTY)).toMatchObject({ code: 'SignatureDoesNotMatch' })
  })
})

describe('the S3 store against the local S3 peer', () => {
  let peer: S3Peer
  let options: S3Options
  let s3: S3ObjectStore
  let now = new Date()
  beforeAll(async () => {
    peer = await new S3Peer({ now: () => now }).start()
    options = { endpoint: peer.url, region: peer.region, bucket: peer.bucket, accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey, pathStyle: true, now: () => now }
    s3 = new S3ObjectStore(options)
  })
  afterAll(async () => peer?.stop())
  const key = (name: string) => `00000000-0000-4000-8000-000000000000/chat-media/${name}`

  it('puts, heads, gets and deletes objects with signed requests', async () => {
    const k = key('11111111-1111-4111-8111-111111111111.png')
    const body = Buffer.from('\x89PNG and more')
    expect(await s3.put(k, Readable.from([body.subarray(0, 4), body.subarray(4)]), { contentType: 'image/png', maxBytes: 100 })).toEqual({ key: k, size: body.length, contentType: 'image/png' })
    expect(peer.objects.get(k)).toEqual({ body, contentType: 'image/png' })
    expect(await s3.head(k)).toEqual({ key: k, size: body.length, contentType: 'image/png' })
    const got = await s3.get(k)
    expect(got).toMatchObject({ size: body.length, contentType: 'image/png' })
    expect(Buffer.concat(await got!.stream.toArray()).equals(body)).toBe(true)
    expect(await s3.delete(k)).toBe(true)
    expect(await s3.delete(k)).toBe(false)
    expect(await s3.head(k)).toBeUndefined()
    expect(await s3.get(k)).toBeUndefined()
    expect(peer.requests.every((r) => r.status < 400 || r.status === 404)).toBe(true)
  })

  it('refuses a body over the limit before sending anything', async () => {
    const k = key('22222222-2222-4222-8222-222222222222')
    const before = peer.requests.length
    await expect(s3.put(k, Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), { contentType: 'video/mp4', maxBytes: 100 })).rejects.toBeInstanceOf(S3ObjectTooLargeError)
    expect(peer.requests.length).toBe(before)
    expect(peer.objects.has(k)).toBe(false)
  })

  it('is refused with the wrong secret, as S3 refuses it', async () => {
    const wrong = new S3ObjectStore({ ...options, secretAccessKey: 'not the secret' })
    const err = await wrong.put(key('33333333-3333-4333-8333-333333333333'), Readable.from([Buffer.from('x')]), { contentType: 'text/plain', maxBytes: 10 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(S3Error)
    expect(err).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' })
  })

  it('presigns PUT and GET URLs a client uses directly; the signed Content-Type, the key and the expiry hold', async () => {
    const k = key('44444444-4444-4444-8444-444444444444.mp4')
    const expiresAt = new Date(now.getTime() + 60_000)
    const put = s3.presignPut(k, { contentType: 'video/mp4', expiresAt })
    expect(put.headers).toEqual({ 'content-type': 'video/mp4' })
    expect(new URL(put.url).searchParams.get('X-Amz-Expires')).toBe('60')
    expect((await fetch(put.url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: 'x' })).status).toBe(403)
    expect((await fetch(put.url.replace('44444444-4444', '55555555-4444'), { method: 'PUT', headers: put.headers, body: 'x' })).status).toBe(403)
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'movie' })).status).toBe(200)
    expect(peer.objects.get(k)?.contentType).toBe('video/mp4')

    const get = s3.presignGet(k, { expiresAt })
    const r = await fetch(get)
    expect(r.status).toBe(200)
    expect(await r.text()).toBe('movie')
    const later = now
    now = new Date(expiresAt.getTime() + 1000)
    const expired = await fetch(get)
    expect(expired.status).toBe(403)
    expect(await expired.text()).toContain('Request has expired')
    now = later
    expect(await text((await s3.get(k))!.stream)).toBe('movie')
  })
})
