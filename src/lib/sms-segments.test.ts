import { describe, expect, it } from 'vitest'
import { smsSegments } from './sms-segments.ts'

describe('smsSegments', () => {
  it('uses GSM-7 for the default alphabet: 160 septets in one message, 153 per segment beyond', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', segments: 1, units: 0 })
    expect(smsSegments('Your appointment is tomorrow at 10:00 @ Dr. Müller? No: Ñandù £5 ¥ § ¿¡')).toMatchObject({ encoding: 'GSM-7', segments: 1 })
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 })
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 })
    expect(smsSegments('a'.repeat(306))).toEqual({ encoding: 'GSM-7', segments: 2, units: 306 })
    expect(smsSegments('a'.repeat(307))).toEqual({ encoding: 'GSM-7', segments: 3, units: 307 })
  })

  it('counts extension-table characters as two septets and never splits the escape pair', () => {
    expect(smsSegments('€')).toEqual({ encoding: 'GSM-7', segments: 1, units: 2 })
    expect(smsSegments('{}[]~|^\\\f€')).toEqual({ encoding: 'GSM-7', segments: 1, units: 20 })
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 })
    expect(smsSegments('a' + '€'.repeat(80))).toMatchObject({ segments: 2, units: 161 })
    // 152 septets then a two-septet character: it moves whole to the second segment.
    expect(smsSegments('a'.repeat(152) + '€' + 'a'.repeat(152))).toMatchObject({ encoding: 'GSM-7', segments: 3, units: 306 })
    expect(smsSegments('a'.repeat(151) + '€' + 'a'.repeat(153))).toMatchObject({ encoding: 'GSM-7', segments: 2, units: 306 })
  })

  it('falls back to UCS-2 for any other character: 70 code units in one message, 67 per segment', () => {
    expect(smsSegments('Grüße ç')).toMatchObject({ encoding: 'UCS-2', segments: 1 }) // ç is not GSM (only Ç is)
    expect(smsSegments('Привет')).toEqual({ encoding: 'UCS-2', segments: 1, units: 6 })
    expect(smsSegments('x'.repeat(69) + 'é'.normalize('NFD'))).toMatchObject({ encoding: 'UCS-2', units: 71, segments: 2 })
    expect(smsSegments('ж'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 })
    expect(smsSegments('ж'.repeat(71))).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 })
    expect(smsSegments('ж'.repeat(134))).toEqual({ encoding: 'UCS-2', segments: 2, units: 134 })
    expect(smsSegments('ж'.repeat(135))).toEqual({ encoding: 'UCS-2', segments: 3, units: 135 })
  })

  it('counts an emoji as two code units and keeps its surrogate pair in one segment', () => {
    expect(smsSegments('👍')).toEqual({ encoding: 'UCS-2', segments: 1, units: 2 })
    expect(smsSegments('👍'.repeat(35))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 })
    // 66 units then a pair: the pair starts segment two.
    expect(smsSegments('ж'.repeat(66) + '👍' + 'ж'.repeat(66))).toMatchObject({ segments: 3, units: 134 })
    expect(smsSegments('ж'.repeat(65) + '👍' + 'ж'.repeat(67))).toMatchObject({ segments: 2, units: 134 })
  })
})
