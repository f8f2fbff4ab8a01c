/**
 * `ecom up --dry-run` for people: every step in order with what it waits for, how it
 * finds itself done, each command as a line that can be pasted into a shell, and each
 * object as `Kind namespace/name` (docs/architecture.md, "kind").
 */
import { shellQuote } from '../tools/tool-runner.js';
import type { PlannedAction, UpPlan } from '../runtime/types.js';

const INDENT = '      ';

function describeAction(action: PlannedAction): string[] {
  switch (action.kind) {
    case 'command':
      if (action.input === undefined) return [`${INDENT}$ ${shellQuote(action.argv)}`];
      return [`${INDENT}$ ${shellQuote(action.argv)} <<'EOF'`, ...action.input.replace(/\n$/, '').split('\n').map((l) => `${INDENT}${l}`), `${INDENT}EOF`];
    case 'apply':
      return action.objects.map((id) => `${INDENT}apply ${id}`);
    case 'task':
      return action.lines.map((line) => `${INDENT}${line}`);
  }
}

export function formatPlan(plan: UpPlan): string {
  const width = String(plan.steps.length).length;
  const lines = [`plan of \`ecom up --runtime ${plan.runtime}\` (nothing was run); steps whose needs are met run at the same time:`];
  plan.steps.forEach((step, i) => {
    const after = step.needs.length > 0 ? ` (after ${step.needs.join(', ')})` : '';
    lines.push('', `${String(i + 1).padStart(width)}. ${step.title} [${step.id}]${after}`);
    if (step.check) {
      lines.push(`${INDENT}skipped when ${step.check.describe}${step.check.argv ? `: ${shellQuote(step.check.argv)}` : ''}`);
    }
    for (const action of step.actions) lines.push(...describeAction(action));
  });
  if (plan.notes.length > 0) lines.push('', 'notes:', ...plan.notes.map((note) => `  - ${note}`));
  return lines.join('\n');
}
