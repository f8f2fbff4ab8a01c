import type { Reporter, TestModule, TestSuite } from 'vitest/node';

/**
 * Ends the run with the plain line "N passed, N failed" (and skipped, if any) alone on
 * a line, which CI systems that do not know vitest's own summary can read.
 *
 * A test that never ran because its file or a `beforeAll` failed (a broker not
 * answering, a browser missing) counts as failed, not skipped: vitest reports it as
 * skipped, which would let a missing dependency read as a green run. So does an error
 * outside any test.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      // Errors of the module itself (not of its tests): it failed to load or a hook failed.
      const setupFailed = mod.errors().length > 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else if (state === 'skipped' && (setupFailed || suiteFailed(test.parent))) failed++;
        else if (state === 'skipped') skipped++;
      }
      // A file that failed to load has no tests but must still count as a failure.
      if (setupFailed && [...mod.children.allTests()].length === 0) failed++;
    }
    // An error outside any test (the global setup failing, an unhandled rejection) fails
    // the run; count it so the closing line never says "0 failed" for a red run.
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}

/** A describe block whose own hook failed (its tests were then skipped by vitest). */
function suiteFailed(parent: TestSuite | TestModule): boolean {
  for (let p = parent; p.type === 'suite'; p = p.parent) {
    if (p.errors().length > 0) return true;
  }
  return false;
}
