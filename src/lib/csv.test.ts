import { describe, expect, it } from 'vitest'
import { CsvError, readCsv } from './csv.ts'

async function all(chunks: string[]) {
  const out: Array<{ line: number; fields: string[] }> = []
  for await (const r of readCsv(chunks)) out.push(r)
  return out
}

const TEXT = '\ufeffa,b,c\r\n"x, y","say ""hi""",\n\n"two\nlines",2,3\nlast,"",z'
const EXPECTED = [
  { line: 1, fields: ['a', 'b', 'c'] },
  { line: 2, fields: ['x, y', 'say "hi"', ''] },
  { line: 4, fields: ['two\nlines', '2', '3'] },
  { line: 6, fields: ['last', '', 'z'] },
]

describe('readCsv', () => {
  it('reads quotes, commas, doubled quotes, line breaks in fields, blank lines and a BOM, with record lines', async () => {
    expect(await all([TEXT])).toEqual(EXPECTED)
  })

  it('gives the same records however the text is cut into chunks', async () => {
    for (let i = 1; i < TEXT.length; i++) expect(await all([TEXT.slice(0, i), TEXT.slice(i)]), `cut at ${i}`).toEqual(EXPECTED)
  })

  it('refuses an unclosed quote and a stray one, naming the line', async () => {
    await expect(all(['a\n"open'])).rejects.toThrow(new CsvError(2, 'a quoted field is not closed'))
    await expect(all(['a\nb"c'])).rejects.toThrow(/^line 2: a quote inside an unquoted field$/)
    await expect(all(['"a"b'])).rejects.toThrow(/^line 1: text after a closing quote$/)
  })
})
