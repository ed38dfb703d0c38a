/** WCAG 2 relative luminance of an sRGB colour given as 6 hex digits. */
export function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

/** WCAG 2 contrast ratio of two colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

/** `color` as 6 lower-case hex digits: `abc` → `aabbcc`. Undefined when it is not 3 or 6 hex digits. */
export function normalizeHex(color: string): string | undefined {
  if (/^[0-9a-f]{6}$/i.test(color)) return color.toLowerCase()
  if (/^[0-9a-f]{3}$/i.test(color)) return color.toLowerCase().split('').map((c) => c + c).join('')
  return undefined
}

/**
 * Black or white, whichever reads better on `background` (6 hex digits). One of the two always
 * reaches at least 4.58:1, above the WCAG AA 4.5:1 for normal text, whatever the colour.
 */
export function textColorOn(background: string): '000000' | 'ffffff' {
  return contrastRatio(background, '000000') >= contrastRatio(background, 'ffffff') ? '000000' : 'ffffff'
}

/**
 * A shade of `color` dark enough to read as text or an outline on white (at least 4.5:1): the
 * colour itself when it already is, else darkened step by step.
 */
export function readableOnWhite(color: string): string {
  let [r, g, b] = [0, 2, 4].map((i) => parseInt(color.slice(i, i + 2), 16)) as [number, number, number]
  const hex = () => [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')
  for (let i = 0; i < 40 && contrastRatio(hex(), 'ffffff') < 4.5; i++) [r, g, b] = [r * 0.9, g * 0.9, b * 0.9]
  return hex()
}
