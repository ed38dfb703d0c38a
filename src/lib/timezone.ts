const known = new Map<string, boolean>()

/** True when `name` is an IANA time zone this runtime knows ("Europe/Paris", "UTC"). */
export function isTimeZone(name: string): boolean {
  let ok = known.get(name)
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name })
      ok = /^[A-Za-z_+\-/0-9]+$/.test(name)
    } catch {
      ok = false
    }
    if (known.size < 1000) known.set(name, ok)
  }
  return ok
}
