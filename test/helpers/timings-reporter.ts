import type { Reporter, TestModule } from 'vitest/node'

/**
 * A vitest reporter that lists every test file with where its time went, slowest first: importing
 * the file (`import`), its hooks (`hooks`: starting apps, stores, peers), and its tests (`tests`).
 * For finding what makes the suite slow: `npm run test:timings` (add file filters as usual).
 * `SWITCHBOARD_TIMINGS_TOP` limits the list (default 25).
 */
export default class TimingsReporter implements Reporter {
  private readonly rows: Array<{ project: string; file: string; collect: number; hooks: number; tests: number }> = []

  onTestModuleEnd(module: TestModule): void {
    const d = module.diagnostic()
    let tests = 0
    for (const test of module.children.allTests()) tests += test.diagnostic()?.duration ?? 0
    this.rows.push({
      project: module.project.name,
      file: module.relativeModuleId,
      collect: d.collectDuration,
      hooks: Math.max(0, d.duration - tests),
      tests,
    })
  }

  onTestRunEnd(): void {
    const top = Number(process.env.SWITCHBOARD_TIMINGS_TOP ?? 25)
    const total = (r: (typeof this.rows)[number]) => r.collect + r.hooks + r.tests
    const s = (ms: number) => (ms / 1000).toFixed(1).padStart(7)
    const rows = [...this.rows].sort((a, b) => total(b) - total(a))
    const lines = ['', ' total  import   hooks   tests  project  file']
    for (const r of rows.slice(0, top)) lines.push(`${s(total(r))} ${s(r.collect)} ${s(r.hooks)} ${s(r.tests)}  ${r.project.padEnd(7)}  ${r.file}`)
    const sum = (k: 'collect' | 'hooks' | 'tests') => rows.reduce((a, r) => a + r[k], 0)
    lines.push(`${s(sum('collect') + sum('hooks') + sum('tests'))} ${s(sum('collect'))} ${s(sum('hooks'))} ${s(sum('tests'))}  (all ${rows.length} files, seconds)`)
    process.stdout.write(lines.join('\n') + '\n')
  }
}
