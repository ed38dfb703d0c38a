/** One CSV record: its fields and the line it starts on (1-based). */
export interface CsvRecord {
  readonly line: number
  readonly fields: string[]
}

/** A CSV text that cannot be read (an unterminated quote, a stray quote inside a field). */
export class CsvError extends Error {
  readonly line: number
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`)
    this.name = 'CsvError'
    this.line = line
  }
}

/**
 * Records of RFC 4180 CSV read from chunks as they come (a file stream, a request body), so a
 * large file never sits in memory whole: comma-separated, fields in double quotes may hold commas,
 * line breaks and doubled quotes; CRLF or LF line ends; blank lines skipped; a BOM ignored.
 */
export async function* readCsv(chunks: AsyncIterable<string | Buffer> | Iterable<string>): AsyncGenerator<CsvRecord> {
  let field = ''
  let fields: string[] = []
  let quoted = false
  let afterQuote = false
  let line = 1
  let recordLine = 1
  let first = true
  // A CR that ended the previous chunk: an LF starting this one belongs to it.
  let skipLf = false
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const endRecord = (): CsvRecord | undefined => {
    fields.push(field)
    const rec = fields.length === 1 && fields[0] === '' ? undefined : { line: recordLine, fields }
    field = ''
    fields = []
    afterQuote = false
    return rec
  }
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      first = false
    }
    let start = 0
    if (skipLf && text[0] === '\n') start = 1
    if (text.length > 0) skipLf = false
    for (let i = start; i < text.length; i++) {
      const c = text[i]!
      if (quoted) {
        if (c === '"') {
          field += text.slice(start, i)
          if (text[i + 1] === '"') {
            field += '"'
            i++
          } else {
            // At a chunk's end this may be half of a doubled quote: the next chunk decides.
            quoted = false
            afterQuote = true
          }
          start = i + 1
        } else if (c === '\n') {
          line++
        }
        continue
      }
      if (afterQuote && c === '"' && start === i && i === 0) {
        // `""` split across chunks: a literal quote, still inside the field.
        field += '"'
        quoted = true
        afterQuote = false
        start = i + 1
        continue
      }
      if (c === ',') {
        field += text.slice(start, i)
        fields.push(field)
        field = ''
        afterQuote = false
        start = i + 1
      } else if (c === '\n' || c === '\r') {
        field += text.slice(start, i)
        if (c === '\r' && text[i + 1] === '\n') i++
        else if (c === '\r' && i + 1 === text.length) skipLf = true
        const rec = endRecord()
        if (rec) yield rec
        line++
        recordLine = line
        start = i + 1
      } else if (c === '"') {
        if (field.length > 0 || start !== i || afterQuote) throw new CsvError(line, 'a quote inside an unquoted field')
        quoted = true
        start = i + 1
      } else if (afterQuote) {
        throw new CsvError(line, 'text after a closing quote')
      }
    }
    field += text.slice(start)
  }
  if (quoted) throw new CsvError(recordLine, 'a quoted field is not closed')
  const rec = endRecord()
  if (rec) yield rec
}
