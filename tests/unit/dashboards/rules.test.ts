/**
 * The Prometheus rules through promtool (Debian's prometheus package): the generated
 * files check, their unit tests (dashboards/rules/tests/) pass and show every alert
 * both firing and quiet, every query of every panel is valid PromQL, and the local
 * runtime's Prometheus config loads exactly these files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { RULE_FILES, RULES_DIR } from '../../../src/dashboards/files.js';
import { panelQueries } from '../../../src/dashboards/queries.js';
import { ALERT_GROUPS } from '../../../src/dashboards/rules.js';
import { bundledRuleFiles, prometheusConfig } from '../../../src/runtime/local/prometheus.js';
import { promtool } from './promtool.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TESTS_DIR = join(RULES_DIR, 'tests');
const ruleFilePaths = Object.keys(RULE_FILES).map((name) => join(RULES_DIR, name));
const testFiles = readdirSync(join(ROOT, TESTS_DIR))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(TESTS_DIR, f));

interface PromtoolTests {
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

describe('the Prometheus rules', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ecom-rules-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('pass `promtool check rules`', () => {
    const run = promtool(['check', 'rules', ...ruleFilePaths], ROOT);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/SUCCESS: \d+ rules found[\s\S]*SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests: `promtool test rules dashboards/rules/tests/*.yaml`', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const run = promtool(['test', 'rules', ...testFiles], ROOT);
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain('FAILED');
  });

  it('have a unit test where each alert fires and one where it stays quiet', () => {
    const cases = testFiles.flatMap((file) => (parse(readFileSync(join(ROOT, file), 'utf8')) as PromtoolTests).tests.flatMap((t) => t.alert_rule_test ?? []));
    for (const alert of ALERT_GROUPS.flatMap((g) => g.rules)) {
      const own = cases.filter((c) => c.alertname === alert.alert);
      expect(own.some((c) => c.exp_alerts.length > 0), `${alert.alert} fires in a test`).toBe(true);
      expect(own.some((c) => c.exp_alerts.length === 0), `${alert.alert} stays quiet in a test`).toBe(true);
    }
  });

  it('leave every dashboard query valid PromQL (each checked by promtool as a rule)', () => {
    const queries = panelQueries('1m');
    const file = join(scratch, 'panel-queries.yml');
    const rules = queries.map((q, i) => ({ record: `ecom_panel_query:${i}`, expr: q.expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'panel-queries', rules }] }));
    const run = promtool(['check', 'rules', file], ROOT);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it("load into the local runtime's Prometheus: its config names exactly the generated files, and promtool accepts it", () => {
    expect(bundledRuleFiles(ROOT).sort()).toEqual(ruleFilePaths.map((p) => join(ROOT, p)).sort());
    const config = prometheusConfig({ catalog: 25001, search: 25002, order: 25003, frontend: 25004 }, bundledRuleFiles(ROOT));
    expect((parse(config) as { rule_files: string[] }).rule_files).toEqual(bundledRuleFiles(ROOT));
    const file = join(scratch, 'prometheus.yml');
    writeFileSync(file, config);
    // `check config` also parses every rule file the config names.
    const run = promtool(['check', 'config', file], ROOT);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/SUCCESS: \d+ rule files found/);
  });
});
