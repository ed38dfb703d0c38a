import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Files of the slow project first, longest first (vitest's order: by the last run's durations,
 * larger files first when it has none), then the fast project's. The slow files are the longest
 * ones and mostly wait for the processes they start, so they start at once while the other worker
 * works through fast files; a run does not end with one long slow file and an idle worker.
 */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const slow = (f: TestSpecification) => f.project.name === 'slow'
    return [...sorted.filter(slow), ...sorted.filter((f) => !slow(f))]
  }
}
