import { CHANNELS, type InboundMessage, type OutboxMessage } from '../../core/delivery/index.ts'
import type { PhoneCall } from './routes/calls.ts'

/** Escape text for HTML content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const h = escapeHtml

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.4; }
  body { margin: 0 auto; max-width: 72rem; padding: 1rem; }
  table { border-collapse: collapse; width: 100%; margin-block: .5rem 1.5rem; }
  caption { text-align: left; font-weight: 600; padding-block: .25rem; }
  th, td { border-bottom: 1px solid #8886; padding: .4rem; text-align: left; vertical-align: top; }
  td.body { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 28rem; }
  .status { font-weight: 600; }
  .status-failed, .error { color: #b00020; }
  .status-sent, .status-delivered, .status-processed { color: #0a7a2f; }
  form.inline { display: flex; gap: .4rem; align-items: flex-start; flex-wrap: wrap; }
  label { display: block; font-weight: 600; }
  .field { margin-block-end: .6rem; }
  input[type=text], select, textarea { font: inherit; padding: .3rem; max-width: 100%; }
  textarea { width: 24rem; min-height: 2.5rem; }
  button { font: inherit; padding: .3rem .8rem; cursor: pointer; }
  nav a { margin-inline-end: .6rem; }
  nav a[aria-current] { font-weight: 700; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`

/** The page's inline styles (the Content-Security-Policy allows exactly these, by hash). */
export const PAGE_STYLES = [STYLE] as const

function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${h(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${main}
</body>
</html>
`
}

function time(d: Date): string {
  const iso = d.toISOString()
  return `<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`
}

export interface SandboxPageData {
  tenantName: string
  csrf: string
  outbox: OutboxMessage[]
  inbound: InboundMessage[]
  /** The channel the lists are filtered to, if any. */
  channel?: string | undefined
  /** The latest calls of the sandbox voice phone, newest first. */
  calls?: readonly PhoneCall[] | undefined
}

/** One call on the sandbox phone, with the buttons of what the person can do now. */
function callRow(c: PhoneCall, csrf: string): string {
  const button = (action: string, label: string, digits?: string) => `<form class="inline" method="post" action="/sandbox/calls/${c.id}/${action}">
      <input type="hidden" name="csrf" value="${h(csrf)}">${digits ? `<input type="hidden" name="digits" value="${h(digits)}">` : ''}
      <button type="submit">${h(label)}</button>
    </form>`
  const actions = [
    ...(c.ringing ? [button('pick-up', 'Pick up'), button('decline', 'Decline')] : []),
    ...(c.choosing ? [button('press', 'Press 1 (leave a voicemail)', '1'), button('press', 'Press 2 (schedule a call)', '2')] : []),
    ...(c.answered && c.status === 'voicemail' ? [button('voicemail', 'Leave the voicemail')] : []),
    ...(c.answered ? [button('hang-up', 'Hang up')] : []),
  ]
  const state = c.ringing ? 'ringing' : c.choosing ? 'asked to choose: 1 voicemail, 2 schedule a call' : c.answered ? 'on the line' : ''
  return `<tr data-call-id="${c.id}">
  <td>${h(c.id)}</td>
  <td>${h(c.end_user_number ?? '')}</td>
  <td>${h(c.call_type)}${c.agent ? `<br>agent ${h(c.agent)}` : ''}</td>
  <td><span class="status status-${h(c.status)}">${h(c.status)}</span>${c.fail_reason ? ` <span class="error">${h(c.fail_reason)}</span>` : ''}${state ? `<br><em class="phone-state">${h(state)}</em>` : ''}</td>
  <td>${actions.join('\n')}</td>
</tr>`
}

function outboxRow(m: OutboxMessage, csrf: string): string {
  const replyId = `reply-${m.id}`
  const status = `<span class="status status-${h(m.status)}">${h(m.status)}</span>` +
    (m.lastError ? `<br><span class="error">${h(m.lastError)}</span>` : '')
  return `<tr>
  <td>${time(m.createdAt)}</td>
  <td>${h(m.channel)}</td>
  <td>${h(m.to)}</td>
  <td class="body">${m.subject ? `<strong>${h(m.subject)}</strong>\n` : ''}${h(m.body)}</td>
  <td>${status}</td>
  <td>
    <form class="inline" method="post" action="/sandbox/reply">
      <input type="hidden" name="csrf" value="${h(csrf)}">
      <input type="hidden" name="channel" value="${h(m.channel)}">
      <input type="hidden" name="from" value="${h(m.to)}">
      <label class="visually-hidden" for="${h(replyId)}">Reply as ${h(m.to)}</label>
      <textarea id="${h(replyId)}" name="body" required maxlength="20000" placeholder="Reply as ${h(m.to)}"></textarea>
      <button type="submit">Send reply</button>
    </form>
  </td>
</tr>`
}

function inboundRow(m: InboundMessage): string {
  return `<tr>
  <td>${time(m.receivedAt)}</td>
  <td>${h(m.channel)}</td>
  <td>${h(m.from)}</td>
  <td>${m.personId ? h(m.personId) : '<em>unknown</em>'}</td>
  <td class="body">${h(m.body)}</td>
  <td><span class="status status-${h(m.status)}">${h(m.status)}</span></td>
</tr>`
}

/**
 * The sandbox page: what the sandbox provider "sent" for the tenant, newest first, with a form on
 * each message to answer as the person, a form to send a test message, and the inbound messages.
 * Server-rendered, no script, every value escaped.
 */
export function renderSandboxPage(d: SandboxPageData): string {
  const filter = ['', ...CHANNELS].map((c) => {
    const current = (d.channel ?? '') === c
    return `<a href="/sandbox${c ? `?channel=${c}` : ''}"${current ? ' aria-current="page"' : ''}>${c || 'all channels'}</a>`
  }).join('')
  const options = CHANNELS.map((c) => `<option value="${c}"${c === (d.channel ?? 'sms') ? ' selected' : ''}>${c}</option>`).join('')
  const outbox = d.outbox.length === 0
    ? '<p>Nothing sent yet.</p>'
    : `<table>
<caption>${d.outbox.length} message${d.outbox.length === 1 ? '' : 's'}, newest first</caption>
<thead><tr><th scope="col">Queued</th><th scope="col">Channel</th><th scope="col">To</th><th scope="col">Message</th><th scope="col">Status</th><th scope="col">Answer as the person</th></tr></thead>
<tbody>
${d.outbox.map((m) => outboxRow(m, d.csrf)).join('\n')}
</tbody>
</table>`
  const inbound = d.inbound.length === 0
    ? '<p>No messages received yet.</p>'
    : `<table>
<caption>${d.inbound.length} message${d.inbound.length === 1 ? '' : 's'}, newest first</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Channel</th><th scope="col">From</th><th scope="col">Person</th><th scope="col">Message</th><th scope="col">Status</th></tr></thead>
<tbody>
${d.inbound.map(inboundRow).join('\n')}
</tbody>
</table>`
  const calls = (d.calls ?? []).length === 0
    ? '<p>No calls yet.</p>'
    : `<table>
<caption>The latest calls, newest first: act as the person on the phone</caption>
<thead><tr><th scope="col">Call</th><th scope="col">Person</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Act as the person</th></tr></thead>
<tbody>
${d.calls!.map((c) => callRow(c, d.csrf)).join('\n')}
</tbody>
</table>`
  return layout(`Sandbox — ${d.tenantName}`, `<header>
<h1>Sandbox</h1>
<p>Tenant <strong>${h(d.tenantName)}</strong>. Everything Switchboard sent through the sandbox provider, newest first. Answer as the person to send a message in.</p>
<nav aria-label="Filter by channel">${filter}</nav>
</header>
<main>
<section aria-labelledby="outbox-title">
<h2 id="outbox-title">Outbox</h2>
${outbox}
</section>
<section aria-labelledby="inbound-title">
<h2 id="inbound-title">Received</h2>
${inbound}
</section>
<section aria-labelledby="calls-title">
<h2 id="calls-title">Phone calls</h2>
<p><a href="/sandbox">Reload</a> to see the phone ring.</p>
${calls}
</section>
<section aria-labelledby="send-title">
<h2 id="send-title">Send a test message</h2>
<form method="post" action="/sandbox/send">
  <input type="hidden" name="csrf" value="${h(d.csrf)}">
  <div class="field"><label for="send-channel">Channel</label><select id="send-channel" name="channel">${options}</select></div>
  <div class="field"><label for="send-to">To</label><input type="text" id="send-to" name="to" required maxlength="500" autocomplete="off"></div>
  <div class="field"><label for="send-subject">Subject <span>(e-mail, push)</span></label><input type="text" id="send-subject" name="subject" maxlength="500"></div>
  <div class="field"><label for="send-body">Message</label><textarea id="send-body" name="body" required maxlength="20000"></textarea></div>
  <button type="submit">Queue message</button>
</form>
</section>
</main>`)
}

/** A small error page for the HTML routes. */
export function renderError(status: number, message: string): string {
  return layout(`Sandbox — ${status}`, `<main>
<h1>Sandbox</h1>
<p role="alert" class="error">${h(message)}</p>
<p><a href="/sandbox">Back to the sandbox</a></p>
</main>`)
}
