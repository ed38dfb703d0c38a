// Switchboard chat popup: one line on any page,
//   <script src="https://switchboard.example/embed/popup.js" data-company="acme" data-auth-code="…" async></script>
// adds a launcher button that opens the chat page (/embed/1/{company}) in an iframe over the page.
// Optional: data-name, data-color, data-avatar, data-intro, data-thread-id, data-person-id,
// data-is-rounded, data-show-header, data-position ("right", default, or "left").
// Styles are set through the DOM (no inline <style>), so a strict host CSP does not block them.
(function () {
  'use strict'
  const script = document.currentScript
  if (!script || window.SwitchboardChat) return
  const d = script.dataset
  if (!d.company || !d.authCode) {
    console.error('Switchboard popup: data-company and data-auth-code are required')
    return
  }
  const src = new URL(script.src, document.baseURI)
  const origin = src.origin
  const base = src.href.replace(/\/embed\/popup\.js(\?.*)?$/, '')
  const params = new URLSearchParams({ auth_code: d.authCode, popup: '1' })
  const map = { name: 'name', color: 'color', avatar: 'avatar', intro: 'intro', threadId: 'threadId', personId: 'personId', isRounded: 'is_rounded', showHeader: 'show_header' }
  for (const key in map) if (d[key] !== undefined && d[key] !== '') params.set(map[key], d[key])
  const url = base + '/embed/1/' + encodeURIComponent(d.company) + '?' + params.toString()
  const name = d.name || 'us'
  const color = /^([0-9a-f]{3}|[0-9a-f]{6})$/i.test(d.color || '') ? '#' + d.color : '#228fb1'
  const side = d.position === 'left' ? 'left' : 'right'

  // Black or white on the brand colour, whichever contrasts more (WCAG).
  function lum(hex) {
    const h = hex.length === 4 ? hex.slice(1).split('').map((c) => c + c).join('') : hex.slice(1)
    const ch = (i) => {
      const c = parseInt(h.slice(i, i + 2), 16) / 255
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4)
    }
    return 0.2126 * ch(0) + 0.7152 * ch(2) + 0.0722 * ch(4)
  }
  const L = lum(color)
  const ink = (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#000000' : '#ffffff'

  const launcher = document.createElement('button')
  launcher.type = 'button'
  launcher.className = 'switchboard-launcher'
  launcher.setAttribute('aria-label', 'Open chat with ' + name)
  launcher.setAttribute('aria-expanded', 'false')
  launcher.setAttribute('aria-controls', 'switchboard-chat-panel')
  launcher.style.cssText = [
    'position:fixed', 'bottom:20px', side + ':20px', 'z-index:2147483646', 'width:60px', 'height:60px', 'border-radius:50%',
    'border:0', 'cursor:pointer', 'background:' + color, 'color:' + ink, 'box-shadow:0 4px 14px rgba(0,0,0,.3)',
    'display:flex', 'align-items:center', 'justify-content:center', 'padding:0',
  ].join(';')
  const svgNs = 'http://www.w3.org/2000/svg'
  const icon = document.createElementNS(svgNs, 'svg')
  icon.setAttribute('viewBox', '0 0 24 24')
  icon.setAttribute('width', '28')
  icon.setAttribute('height', '28')
  icon.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS(svgNs, 'path')
  path.setAttribute('fill', 'currentColor')
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z')
  icon.append(path)
  launcher.append(icon)

  const panel = document.createElement('div')
  panel.id = 'switchboard-chat-panel'
  panel.setAttribute('role', 'dialog')
  panel.setAttribute('aria-label', 'Chat with ' + name)
  panel.hidden = true
  const iframe = document.createElement('iframe')
  iframe.title = 'Chat with ' + name
  iframe.style.cssText = 'width:100%;height:100%;border:0;display:block;background:#fff'

  const phone = window.matchMedia('(max-width: 480px)')
  function layout() {
    const common = ['position:fixed', 'z-index:2147483647', 'background:#fff', 'overflow:hidden', 'box-shadow:0 8px 30px rgba(0,0,0,.3)']
    panel.style.cssText = (phone.matches
      ? common.concat(['inset:0', 'width:100%', 'height:100%'])
      : common.concat(['bottom:92px', side + ':20px', 'width:380px', 'height:600px', 'max-height:calc(100vh - 112px)', 'border-radius:' + (d.isRounded === 'false' ? '0' : '14px')])
    ).join(';') + (panel.hidden ? ';display:none' : '')
  }
  phone.addEventListener('change', layout)

  function open() {
    if (!iframe.src) {
      iframe.src = url
      panel.append(iframe)
    }
    panel.hidden = false
    layout()
    launcher.setAttribute('aria-expanded', 'true')
    launcher.setAttribute('aria-label', 'Close chat with ' + name)
    iframe.focus()
    const focusInput = () => iframe.contentWindow && iframe.contentWindow.postMessage({ type: 'switchboard:focus' }, origin)
    focusInput()
    iframe.addEventListener('load', focusInput, { once: true })
  }
  function close() {
    if (panel.hidden) return
    panel.hidden = true
    layout()
    launcher.setAttribute('aria-expanded', 'false')
    launcher.setAttribute('aria-label', 'Open chat with ' + name)
    launcher.focus()
  }
  launcher.addEventListener('click', () => (panel.hidden ? open() : close()))
  window.addEventListener('message', (e) => {
    if (e.origin === origin && e.source === iframe.contentWindow && e.data && e.data.type === 'switchboard:close') close()
  })
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close()
  })

  layout()
  const mount = () => document.body.append(panel, launcher)
  if (document.body) mount()
  else document.addEventListener('DOMContentLoaded', mount)
  window.SwitchboardChat = { open, close, toggle: () => (panel.hidden ? open() : close()) }
})()
