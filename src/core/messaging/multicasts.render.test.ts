import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { renderPatiently } from './multicasts.ts'

// A multicast renders each recipient's template under Liquid's wall-clock render limit; a limit hit
// on a starved host is tried again before the recipient is skipped (README "Multicasts").
const limit = () => new ValidationError('template_render_failed', 'template t does not render: sms: Liquid: template render limit exceeded', { templateId: 't', errors: ['sms: Liquid: template render limit exceeded'] })

describe('renderPatiently', () => {
  it('tries a render-limit failure again and answers the render that succeeds', async () => {
    let calls = 0
    const out = await renderPatiently(() => {
      calls++
      if (calls < 3) throw limit()
      return 'rendered'
    })
    expect(out).toBe('rendered')
    expect(calls).toBe(3)
  })

  it('gives up after three tries, and throws any other error at once', async () => {
    let calls = 0
    await expect(renderPatiently(() => {
      calls++
      throw limit()
    })).rejects.toThrow(/render limit exceeded/)
    expect(calls).toBe(3)
    calls = 0
    await expect(renderPatiently(() => {
      calls++
      throw new ValidationError('invalid_template_data', 'data.x: must be a string', { templateId: 't', errors: ['data.x: must be a string'] })
    })).rejects.toThrow(/must be a string/)
    expect(calls).toBe(1)
  })
})
