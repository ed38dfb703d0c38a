import { useState, type FormEvent } from 'react'
import { api, ApiError, type Me } from '../api.ts'

/** Email and password; errors (wrong password, locked out) are announced to screen readers. */
export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [company, setCompany] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      onSignedIn(await api.signIn(email, password, company.trim() || undefined))
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server')
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="page narrow">
      <h1>Sign in to the Switchboard console</h1>
      <form onSubmit={submit} className="stack">
        <label htmlFor="email">Email</label>
        <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <label htmlFor="company">Company <span className="hint">(contact-center agents: the company id, optional)</span></label>
        <input id="company" type="text" autoComplete="organization" value={company} onChange={(e) => setCompany(e.target.value)} />
        <button type="submit" disabled={busy}>Sign in</button>
        <p role="alert" className="error">{error}</p>
      </form>
    </main>
  )
}
