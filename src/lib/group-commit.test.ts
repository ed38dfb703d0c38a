import { describe, expect, it } from 'vitest'
import { GroupCommit } from './group-commit.ts'

interface Item {
  readonly id: number
  readonly group?: string
  readonly member?: string
  readonly bad?: boolean
}

/** A write whose calls stay open until released, recording every group it was given. */
function gatedWrite() {
  const calls: number[][] = []
  const gates: Array<() => void> = []
  let open = 0
  let maxOpen = 0
  const write = async (items: readonly Item[]): Promise<string[]> => {
    calls.push(items.map((i) => i.id))
    open++
    maxOpen = Math.max(maxOpen, open)
    await new Promise<void>((resolve) => gates.push(resolve))
    open--
    if (items.some((i) => i.bad)) throw new Error(`bad item in ${items.map((i) => i.id).join(',')}`)
    return items.map((i) => `ok ${i.id}`)
  }
  return {
    calls, write, get maxOpen() { return maxOpen },
    /** Let every open write finish, until nothing is open. */
    async drain() {
      for (let n = 0; n < 100; n++) {
        await new Promise((r) => setImmediate(r))
        const g = gates.splice(0)
        if (g.length === 0 && open === 0) return
        for (const f of g) f()
      }
    },
  }
}

describe('GroupCommit', () => {
  it('writes the items waiting while a write is in flight together, one group per key', async () => {
    const w = gatedWrite()
    const gc = new GroupCommit<Item, string>({ write: w.write, groupKey: (i) => i.group ?? 'a', maxInFlight: 1, maxGroup: 100 })
    const answers = [gc.submit({ id: 1 }), gc.submit({ id: 2 }), gc.submit({ id: 3, group: 'b' }), gc.submit({ id: 4 }), gc.submit({ id: 5, group: 'b' })]
    await w.drain()
    expect(await Promise.all(answers)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5'])
    // The first write took item 1 alone (nothing else waited); the rest waited and went by group.
    expect(w.calls).toEqual([[1], [2, 4], [3, 5]])
  })

  it('keeps at most maxInFlight writes open and at most maxGroup items in one', async () => {
    const w = gatedWrite()
    const gc = new GroupCommit<Item, string>({ write: w.write, groupKey: () => 'a', maxInFlight: 2, maxGroup: 3 })
    const answers = Array.from({ length: 11 }, (_, i) => gc.submit({ id: i }))
    expect(gc.inFlight).toBe(2)
    await w.drain()
    expect(await Promise.all(answers)).toHaveLength(11)
    expect(w.maxOpen).toBe(2)
    expect(Math.max(...w.calls.map((c) => c.length))).toBe(3)
    expect(w.calls.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i))
  })

  it('puts one item per member key in a group, and with serializeMembers holds a key back until its write is over', async () => {
    const w = gatedWrite()
    const gc = new GroupCommit<Item, string>({ write: w.write, groupKey: () => 'a', memberKey: (i) => i.member!, serializeMembers: true, maxInFlight: 4, maxGroup: 100 })
    const answers = [gc.submit({ id: 1, member: 'p' }), gc.submit({ id: 2, member: 'p' }), gc.submit({ id: 3, member: 'q' }), gc.submit({ id: 4, member: 'p' })]
    // Item 2 and 4 wait for person p's write to end although writes are free.
    expect(w.calls).toEqual([[1], [3]])
    await w.drain()
    await Promise.all(answers)
    expect(w.calls).toEqual([[1], [3], [2], [4]])

    const loose = gatedWrite()
    const gc2 = new GroupCommit<Item, string>({ write: loose.write, groupKey: () => 'a', memberKey: (i) => i.member!, maxInFlight: 1, maxGroup: 100 })
    const more = [gc2.submit({ id: 1, member: 'k' }), gc2.submit({ id: 2, member: 'k' }), gc2.submit({ id: 3, member: 'm' }), gc2.submit({ id: 4, member: 'k' })]
    await loose.drain()
    await Promise.all(more)
    expect(loose.calls).toEqual([[1], [2, 3], [4]])
  })

  it('keeps items that share any of their several member keys (memberKeys) out of one group', async () => {
    type Keyed = Item & { readonly keys: readonly string[] }
    const w = gatedWrite()
    const gc = new GroupCommit<Keyed, string>({ write: w.write, groupKey: () => 'a', memberKeys: (i) => i.keys, maxInFlight: 1, maxGroup: 100 })
    const first = gc.submit({ id: 0, keys: [] })
    // 2 shares phone p1 with 1; 4 shares external id e3 with 3; 5 has no keys and fits anywhere.
    const answers = [
      gc.submit({ id: 1, keys: ['p1', 'e1'] }), gc.submit({ id: 2, keys: ['p1', 'e2'] }), gc.submit({ id: 3, keys: ['p3', 'e3'] }),
      gc.submit({ id: 4, keys: ['p4', 'e3'] }), gc.submit({ id: 5, keys: [] }), gc.submit({ id: 6, keys: ['p6', 'e6'] }),
    ]
    await w.drain()
    expect(await first).toBe('ok 0')
    expect(await Promise.all(answers)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5', 'ok 6'])
    expect(w.calls).toEqual([[0], [1, 3, 5, 6], [2, 4]])
  })

  it('writes a failed group again one item at a time: each caller gets its own answer or its own error', async () => {
    const w = gatedWrite()
    const gc = new GroupCommit<Item, string>({ write: w.write, groupKey: () => 'a', maxInFlight: 1, maxGroup: 100 })
    const first = gc.submit({ id: 0 })
    const answers = [gc.submit({ id: 1 }), gc.submit({ id: 2, bad: true }), gc.submit({ id: 3 })].map((p) => p.then((v) => v, (e: Error) => e.message))
    await w.drain()
    expect(await first).toBe('ok 0')
    expect(await Promise.all(answers)).toEqual(['ok 1', 'bad item in 2', 'ok 3'])
    expect(w.calls).toEqual([[0], [1, 2, 3], [1], [2], [3]])
  })

  it('tries a lone item once more when its error says so (retryAlone), and not otherwise', async () => {
    let failures = 1
    const calls: number[][] = []
    const gc = new GroupCommit<Item, string>({
      groupKey: () => 'a', maxInFlight: 1, maxGroup: 100, retryAlone: (e) => (e as Error).message === 'raced',
      write: async (items) => {
        calls.push(items.map((i) => i.id))
        if (items.some((i) => i.bad)) throw new Error('bad')
        if (failures-- > 0) throw new Error('raced')
        return items.map((i) => `ok ${i.id}`)
      },
    })
    expect(await gc.submit({ id: 1 })).toBe('ok 1')
    expect(calls).toEqual([[1], [1]])
    await expect(gc.submit({ id: 2, bad: true })).rejects.toThrow('bad')
    expect(calls).toEqual([[1], [1], [2]])
  })
})
