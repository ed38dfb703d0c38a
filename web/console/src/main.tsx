import { StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { api, setCsrf, type Me } from './api.ts'
import { Link, navigate, usePath } from './router.tsx'
import { SignIn } from './pages/sign-in.tsx'
import { People } from './pages/people.tsx'
import { Person } from './pages/person.tsx'
import { Workspace } from './pages/workspace.tsx'
import { Supervisor } from './pages/supervisor.tsx'
import './styles.css'

function App() {
  const path = usePath()
  const [me, setMe] = useState<Me | null | undefined>(undefined)

  useEffect(() => {
    // Not signed in (401), or the server unreachable: the sign-in page (which says so when used).
    api.session().then((m) => {
      setCsrf(m.csrf_token)
      setMe(m)
    }, () => setMe(null))
  }, [])

  useEffect(() => {
    const titles: Record<string, string> = { '/sign-in': 'Sign in', '/people': 'People', '/workspace': 'Workspace', '/supervisor': 'Supervisor' }
    const page = path.startsWith('/people/') ? 'Person' : titles[path] ?? 'Console'
    document.title = `${page} · Switchboard console`
  }, [path])

  if (me === undefined) return <main className="page"><p role="status">Loading…</p></main>
  if (me === null) {
    return <SignIn onSignedIn={(m) => {
      setCsrf(m.csrf_token)
      setMe(m)
      if (path === '/' || path === '/sign-in') navigate(m.agent_token ? '/workspace' : '/people', true)
    }} />
  }

  const signOut = async () => {
    await api.signOut().catch(() => {})
    setCsrf('')
    setMe(null)
    navigate('/sign-in', true)
  }

  // The supervisor view (issue 11, item 4): owners, admins and supervisors.
  const supervises = me.user.role === 'owner' || me.user.role === 'admin' || me.user.role === 'supervisor'
  let page
  const personMatch = /^\/people\/([^/]+)$/.exec(path)
  if (personMatch) page = <Person id={decodeURIComponent(personMatch[1]!)} />
  else if (me.agent_token && (path === '/workspace' || path === '/' || path === '/sign-in')) page = <Workspace token={me.agent_token} />
  else if (path === '/supervisor' && supervises) page = <Supervisor />
  else page = <People />

  return (
    <>
      <header className="top">
        <span className="brand">Switchboard</span>
        <nav aria-label="Console">
          {me.agent_token && <Link to="/workspace">Workspace</Link>}
          <Link to="/people">People</Link>
          {supervises && <Link to="/supervisor">Supervisor</Link>}
        </nav>
        <span className="who">{me.user.name ?? me.user.email} · {me.user.role} · {me.organization.name}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      {page}
    </>
  )
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>)
