import { normalizeHex, readableOnWhite, textColorOn } from './contrast.ts'

/** What the chat page needs to start, as the page's inline JSON config. */
export interface ChatPageConfig {
  company: string
  authCode: string
  name: string
  /** 6 hex digits. */
  color: string
  avatar: string
  intro: string
  threadId: string | null
  personId: string | null
  rounded: boolean
  showHeader: boolean
  popup: boolean
}

/** The brand colour when none is given. */
export const DEFAULT_COLOR = '228fb1'
export const DEFAULT_NAME = 'Assistant'
export const DEFAULT_AVATAR = '/embed/assets/avatar.svg'

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** JSON safe inside a `<script>` element: no `</script>`, no HTML comment openers. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

/** `true`/`1`/`yes` (any case) → true, `false`/`0`/`no` → false, absent or empty → the default. */
export function parseFlag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback
  return ['true', '1', 'yes'].includes(value.toLowerCase())
}

/** The avatar URL when it is a usable http(s) URL or a path on this server; undefined otherwise. */
export function safeAvatar(value: string): string | undefined {
  if (value.startsWith('/') && !value.startsWith('//')) return value
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined
  } catch {
    return undefined
  }
}

/** Headers of every page of the embed: frameable anywhere, scripts only from here, no referrer leak of the URL. */
export function pageHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'self'; img-src 'self' https: http: data:; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'self'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  }
}

/** The chat page. Everything dynamic is escaped; the page's script reads its config from inline JSON. */
export function renderChatPage(c: ChatPageConfig, assetVersion: string): string {
  const color = normalizeHex(c.color) ?? DEFAULT_COLOR
  const config = {
    company: c.company, authCode: c.authCode, name: c.name, intro: c.intro, threadId: c.threadId, personId: c.personId, popup: c.popup,
    color: `#${color}`, colorText: `#${textColorOn(color)}`, colorInk: `#${readableOnWhite(color)}`,
    api: `/embed/1/${encodeURIComponent(c.company)}/api`,
  }
  const classes = [c.rounded ? 'sb-rounded' : 'sb-square', c.popup ? 'sb-in-popup' : ''].filter(Boolean).join(' ')
  const name = escapeHtml(c.name)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat with ${name}</title>
<link rel="stylesheet" href="/embed/assets/chat.css?v=${assetVersion}">
<script type="application/json" id="sb-config">${scriptJson(config)}</script>
<script src="/embed/assets/chat.js?v=${assetVersion}" defer></script>
</head>
<body class="${classes}">
<main class="sb-chat" aria-label="Chat with ${name}">
  <header class="sb-header"${c.showHeader ? '' : ' hidden'}>
    <img class="sb-avatar" src="${escapeHtml(c.avatar)}" alt="" width="40" height="40">
    <div class="sb-heading">
      <h1 class="sb-title">${name}</h1>
      <p class="sb-subtitle" id="sb-status">Connecting…</p>
    </div>
    <button type="button" class="sb-close" id="sb-close" aria-label="Close chat" hidden>&#x2715;</button>
  </header>
  <div class="sb-log" id="sb-log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversation with ${name}" tabindex="0">
    ${c.intro !== '' ? `<p class="sb-intro">${escapeHtml(c.intro)}</p>` : ''}
  </div>
  <p class="sb-typing" id="sb-typing" role="status" aria-live="polite"></p>
  <div class="sb-replies" id="sb-replies" role="group" aria-label="Quick replies" hidden></div>
  <p class="sb-error" id="sb-error" role="alert" hidden></p>
  <form class="sb-composer" id="sb-form" autocomplete="off">
    <label for="sb-input" class="sb-visually-hidden">Message to ${name}</label>
    <textarea id="sb-input" name="text" rows="1" maxlength="2000" placeholder="Type a message…" disabled></textarea>
    <button type="submit" class="sb-send" id="sb-send" disabled>Send</button>
  </form>
  <noscript><p class="sb-error">This chat needs JavaScript.</p></noscript>
</main>
</body>
</html>
`
}

/** A friendly page for a chat link that does not work: what is wrong, in plain words. */
export function renderEmbedError(status: number, title: string, text: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/embed/assets/chat.css">
</head>
<body class="sb-rounded">
<main class="sb-problem" aria-labelledby="sb-problem-title">
  <h1 id="sb-problem-title">${escapeHtml(title)}</h1>
  <p>${escapeHtml(text)}</p>
  <p class="sb-problem-code">Error ${status}</p>
</main>
</body>
</html>
`
}
