// Switchboard web chat page: plain browser JavaScript, no build step. Talks to the embed API of
// the same server (`/embed/1/{company}/api`): starts a session (anonymous sessions keep their
// signed token in localStorage), shows the history, streams the bot's answers over Server-Sent
// Events (resuming with Last-Event-ID after a drop), and sends what the person writes.
(function () {
  'use strict'
  const cfg = JSON.parse(document.getElementById('sb-config').textContent)
  const $ = (id) => document.getElementById(id)
  const log = $('sb-log')
  const typing = $('sb-typing')
  const replies = $('sb-replies')
  const form = $('sb-form')
  const input = $('sb-input')
  const sendButton = $('sb-send')
  const statusLine = $('sb-status')
  const errorBox = $('sb-error')
  const closeButton = $('sb-close')

  const rootStyle = document.documentElement.style
  rootStyle.setProperty('--sb-brand', cfg.color)
  rootStyle.setProperty('--sb-brand-text', cfg.colorText)
  rootStyle.setProperty('--sb-brand-ink', cfg.colorInk)

  const storageKey = 'switchboard-embed:' + cfg.company + ':' + cfg.authCode
  const memory = {}
  const storage = {
    get() {
      try { return window.localStorage.getItem(storageKey) || undefined } catch { return memory.token }
    },
    set(value) {
      try { window.localStorage.setItem(storageKey, value) } catch { memory.token = value }
    },
  }

  /** Message ids already shown, and their elements. */
  const shown = new Map()
  let token
  let stream
  let outCount = 0
  let typingTimer
  let lastMessage

  function setStatus(text) {
    if (statusLine) statusLine.textContent = text
  }

  function showError(text) {
    errorBox.textContent = text
    errorBox.hidden = !text
  }

  function showTyping() {
    typing.replaceChildren()
    const dots = document.createElement('span')
    dots.className = 'sb-dots'
    dots.setAttribute('aria-hidden', 'true')
    for (let i = 0; i < 3; i++) {
      const d = document.createElement('span')
      d.textContent = '.'
      dots.append(d)
    }
    typing.append(cfg.name + ' is typing', dots)
    clearTimeout(typingTimer)
    // Never spin forever: a bot with nothing to say is silent.
    typingTimer = setTimeout(hideTyping, 15000)
  }

  function hideTyping() {
    clearTimeout(typingTimer)
    typing.replaceChildren()
  }

  function clearReplies() {
    replies.replaceChildren()
    replies.hidden = true
  }

  function showReplies(options) {
    clearReplies()
    if (!options || options.length === 0) return
    for (const label of options) {
      const b = document.createElement('button')
      b.type = 'button'
      b.className = 'sb-reply'
      b.textContent = label
      b.addEventListener('click', () => {
        void send(label)
        // The buttons go away; keep keyboard focus in the conversation.
        input.focus()
      })
      replies.append(b)
    }
    replies.hidden = false
  }

  function formatTime(iso) {
    const d = new Date(iso)
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  }

  function addMessage(m) {
    if (shown.has(m.id)) return
    const el = document.createElement('div')
    el.className = 'sb-msg ' + (m.direction === 'in' ? 'sb-me' : 'sb-bot')
    el.dataset.id = m.id
    const who = document.createElement('span')
    who.className = 'sb-visually-hidden'
    who.textContent = m.direction === 'in' ? 'You said: ' : cfg.name + ' said: '
    const bubble = document.createElement('p')
    bubble.className = 'sb-bubble'
    bubble.append(who, m.text)
    const time = document.createElement('time')
    time.className = 'sb-time'
    time.dateTime = m.created_at
    time.textContent = formatTime(m.created_at)
    el.append(bubble, time)
    log.append(el)
    shown.set(m.id, el)
    lastMessage = m
    if (m.direction === 'out') {
      outCount++
      hideTyping()
      showReplies(m.quick_replies)
    } else {
      clearReplies()
    }
    log.scrollTop = log.scrollHeight
  }

  async function api(method, path, fields) {
    const body = Object.assign({ auth_code: cfg.authCode }, fields)
    let url = cfg.api + path
    const init = { method, headers: {} }
    if (method === 'GET') url += '?' + new URLSearchParams(body).toString()
    else {
      init.headers['content-type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    const res = await fetch(url, init)
    const data = await res.json().catch(() => ({}))
    if (!res.ok) {
      const err = new Error(data.message || 'The chat is not available right now')
      err.status = res.status
      throw err
    }
    return data
  }

  async function send(text) {
    text = text.trim()
    if (!text || !token) return
    showError('')
    clearReplies()
    const before = outCount
    sendButton.disabled = true
    try {
      const r = await api('POST', '/messages', { token, text })
      addMessage(r.message)
      input.value = ''
      autosize()
      // The answer may already be here (a fast bot); otherwise it is on its way.
      if (outCount === before) showTyping()
    } catch (err) {
      showError(err.status === 429 ? 'You are sending messages too fast. Wait a moment and try again.' : 'Your message was not sent: ' + err.message)
      if (lastMessage && lastMessage.direction === 'out') showReplies(lastMessage.quick_replies)
    } finally {
      sendButton.disabled = false
    }
  }

  function connect(cursor) {
    if (stream) stream.close()
    const query = new URLSearchParams({ auth_code: cfg.authCode, token, after: cursor })
    stream = new EventSource(cfg.api + '/events?' + query.toString())
    stream.addEventListener('message', (e) => {
      try { addMessage(JSON.parse(e.data)) } catch { /* a broken event is skipped */ }
    })
    stream.addEventListener('open', () => {
      setStatus('Online')
      showError('')
    })
    stream.addEventListener('error', () => {
      // EventSource reconnects by itself (sending Last-Event-ID); when it gave up (the server
      // refused), start over with a fresh session after a pause.
      setStatus('Reconnecting…')
      if (stream.readyState === EventSource.CLOSED) setTimeout(start, 5000)
    })
  }

  async function start() {
    try {
      const session = await api('POST', '/session', {
        ...(cfg.personId ? { person_id: cfg.personId } : { token: storage.get() || '' }),
        ...(cfg.threadId ? { thread_id: cfg.threadId } : {}),
      })
      token = session.token
      if (session.anonymous) storage.set(token)
      const history = await api('GET', '/messages', { token })
      for (const m of history.messages) addMessage(m)
      const last = history.messages[history.messages.length - 1]
      // A first thread on its way, or a message the bot has not answered yet.
      if ((session.started_thread && history.messages.length === 0) || (last && last.direction === 'in')) showTyping()
      connect(history.cursor)
      input.disabled = false
      sendButton.disabled = false
      showError('')
      if (cfg.popup) input.focus()
    } catch (err) {
      setStatus('Offline')
      showError('The chat could not start: ' + err.message + '. Retrying…')
      setTimeout(start, 5000)
    }
  }

  function autosize() {
    input.style.height = 'auto'
    input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px'
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault()
    void send(input.value)
  })
  input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter starts a new line.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      void send(input.value)
    }
  })
  input.addEventListener('input', autosize)

  function closePopup() {
    window.parent.postMessage({ type: 'switchboard:close' }, '*')
  }
  if (cfg.popup) {
    closeButton.hidden = false
    // Without the header, the close button floats over the conversation.
    if (closeButton.closest('header') && closeButton.closest('header').hidden) {
      closeButton.classList.add('sb-floating')
      document.querySelector('.sb-chat').prepend(closeButton)
    }
    closeButton.addEventListener('click', closePopup)
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') closePopup()
    })
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === 'switchboard:focus') input.focus()
    })
  }

  void start()
})()
