import { useEffect, useState, type MouseEvent, type ReactNode } from 'react'

// A tiny router over the History API: paths under /console, links that navigate without reloading.

const BASE = '/console'

function current(): string {
  const p = window.location.pathname
  return p.startsWith(BASE) ? p.slice(BASE.length) || '/' : '/'
}

/** Go to a console path (`/people/…`), as a link click would. */
export function navigate(path: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', BASE + path)
  else window.history.pushState(null, '', BASE + path)
  window.dispatchEvent(new PopStateEvent('popstate'))
}

/** The current console path, re-rendering on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(current)
  useEffect(() => {
    const update = () => setPath(current())
    window.addEventListener('popstate', update)
    return () => window.removeEventListener('popstate', update)
  }, [])
  return path
}

/** A link to a console path: a real `<a href>` (open in a new tab works), handled in place on a plain click. */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return <a href={BASE + to} onClick={onClick} className={className}>{children}</a>
}
