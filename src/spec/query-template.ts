/*
 * Query templates: PromQL with {{variable}} placeholders, filled in per cluster and per measurement. Values are put
 * in as they are, without PromQL escaping, because every one of them is already restricted to label-safe characters
 * (names are DNS-1123 labels, versions are label values, the window is a duration) and `{{window}}` sits outside
 * quotes, where escaping would break it.
 */

/** Every variable a query may use. */
export const TEMPLATE_VARIABLES = ['app', 'namespace', 'cluster', 'version', 'stableVersion', 'workload', 'window'] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** The values of one measurement: `window` is the analysis interval as a PromQL duration (`30s`). */
export type TemplateVars = Record<TemplateVariable, string>;

/** A template that uses a variable that does not exist, or a `{{` that does not close. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function isVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

/** The problems of a template, each a sentence; empty when the template is good. */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  const unknown = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!isVariable(match[1]!)) unknown.add(match[1]!);
  }
  for (const name of unknown) {
    const sameButCase = TEMPLATE_VARIABLES.find((variable) => variable.toLowerCase() === name.toLowerCase());
    const hint = sameButCase ? ` (did you mean {{${sameButCase}}}?)` : '';
    problems.push(`uses unknown template variable {{${name}}}${hint}; known: ${TEMPLATE_VARIABLES.join(', ')}`);
  }
  // Whatever is left of a "{{" after the placeholders are removed is a placeholder that was not written right.
  const rest = template.replace(PLACEHOLDER, '');
  const stray = rest.indexOf('{{');
  if (stray !== -1) {
    problems.push(`has "{{" that does not form a placeholder such as {{app}}, near ${JSON.stringify(rest.slice(stray, stray + 20))}`);
  }
  return problems;
}

/** The variables a template uses, each once, in order of first use. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}

/**
 * Fills in a template in one pass, so a value that itself looks like a placeholder (the plan view passes the literal
 * `{{stableVersion}}`) is left as it is. Throws a TemplateError when the template has a problem; plans are checked
 * with `templateProblems` first, so this only happens to templates that never went through a plan.
 */
export function renderQuery(template: string, vars: TemplateVars): string {
  const problems = templateProblems(template);
  if (problems.length > 0) throw new TemplateError(`query template ${problems.join('; ')}`);
  return template.replace(PLACEHOLDER, (_, name: TemplateVariable) => vars[name]);
}

/**
 * The `version` the baseline side of a judged metric is rendered with: the stable's, or with `baseline: deployment`
 * the version label of the `<name>-baseline` Deployment's pods (src/clusters/baseline.ts), so that their series is
 * told apart from the long-running stable pods' ones.
 */
export function baselineVersionLabel(kind: 'stable' | 'deployment' | undefined, stableVersion: string | null): string {
  if (kind !== 'deployment') return stableVersion ?? '';
  return stableVersion ? `${stableVersion}-baseline` : 'baseline';
}
