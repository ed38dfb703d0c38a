import { useEffect, useState, type FormEvent } from 'react'
import { api, ApiError, type PersonSummary } from '../api.ts'
import { Link } from '../router.tsx'

/** A person's display name: their name, else whatever identifies them. */
export function displayName(p: PersonSummary): string {
  const name = [p.first_name, p.last_name].filter(Boolean).join(' ')
  return name || p.email || p.phone || p.external_id || 'Unnamed person'
}

/** Search the directory by name, phone, external id or email (the query is kept in the address). */
export function People() {
  const initial = new URLSearchParams(window.location.search).get('q') ?? ''
  const [query, setQuery] = useState(initial)
  const [people, setPeople] = useState<PersonSummary[] | undefined>(undefined)
  const [error, setError] = useState('')

  const run = async (q: string) => {
    setError('')
    try {
      setPeople((await api.searchPeople(q)).people)
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server')
    }
  }
  useEffect(() => {
    void run(initial)
  }, [initial])

  const submit = (e: FormEvent) => {
    e.preventDefault()
    window.history.replaceState(null, '', `/console/people${query ? `?q=${encodeURIComponent(query)}` : ''}`)
    void run(query)
  }

  return (
    <main className="page">
      <h1>People</h1>
      <form role="search" onSubmit={submit} className="row">
        <label htmlFor="q" className="visually-hidden">Search people</label>
        <input id="q" type="search" placeholder="Name, phone, external id or email" value={query} onChange={(e) => setQuery(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <p role="alert" className="error">{error}</p>
      {people && (
        <>
          <p role="status">{people.length === 0 ? 'No one matches.' : `${people.length} ${people.length === 1 ? 'person' : 'people'}`}</p>
          <table className="list">
            <caption className="visually-hidden">People matching the search</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Phone</th><th scope="col">Email</th><th scope="col">External id</th></tr></thead>
            <tbody>
              {people.map((p) => (
                <tr key={p.id}>
                  <td><Link to={`/people/${p.id}`}>{displayName(p)}</Link></td>
                  <td>{p.phone ?? ''}</td>
                  <td>{p.email ?? ''}</td>
                  <td>{p.external_id ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  )
}
