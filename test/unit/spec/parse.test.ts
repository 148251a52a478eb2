import fc from 'fast-check';
import { Value } from 'typebox/value';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseRolloutSpec, type ParseResult } from '../../../src/spec/parse.ts';
import { DEFAULT_STEPS, RolloutSpecSchema } from '../../../src/spec/schema.ts';
import { validate } from '../../../src/spec/validate.ts';
import { EXAMPLE_YAML, minimal } from './fixtures.ts';

function errorsOf(result: ParseResult) {
  if (result.ok) throw new Error(`expected errors, got a spec: ${JSON.stringify(result.spec)}`);
  return result.errors;
}

function specOf(result: ParseResult) {
  if (!result.ok) throw new Error(`expected a spec, got errors: ${JSON.stringify(result.errors, null, 2)}`);
  return result.spec;
}

/** The minimal rollout with one change at a path; `undefined` removes the field. */
function withChange(path: (string | number)[], value: unknown): Record<string, unknown> {
  const spec = minimal();
  let node: Record<string | number, unknown> = spec;
  for (const segment of path.slice(0, -1)) {
    node[segment] ??= typeof path[path.indexOf(segment) + 1] === 'number' ? [] : {};
    node = node[segment] as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return spec;
}

describe('parseRolloutSpec: good files', () => {
  it('reads the DESIGN.md example and fills in its defaults', () => {
    const spec = specOf(parseRolloutSpec(EXAMPLE_YAML));
    expect(spec.version).toBe('2.3.1');
    expect(spec.steps).toEqual([
      { setWeight: 10 },
      { pause: { duration: '1m' } },
      { setWeight: 50 },
      { pause: { duration: '2m' } },
      { pause: {} },
    ]);
    expect(spec.analysis).toMatchObject({ interval: '30s', failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 });
    expect(spec.waves[0]).toEqual({ name: 'canary', clusters: ['staging-eu'], approval: false });
    expect(spec.waves[1]).toEqual({ name: 'europe', clusters: ['prod-eu-1'], maxParallel: 1, approval: true, bake: '10m' });
    expect(spec.waves[2]).toEqual({ name: 'americas', selector: { region: 'us' }, approval: false });
    expect(spec.rollback).toEqual({ scope: 'all' });
    expect(spec.progressDeadline).toBe('10m');
  });

  it('gives a minimal file the documented defaults and no analysis', () => {
    const spec = specOf(parseRolloutSpec(minimal()));
    expect(spec.steps).toEqual(DEFAULT_STEPS);
    expect(spec.analysis).toBeUndefined();
    expect(spec.rollback).toEqual({ scope: 'all' });
    expect(spec.progressDeadline).toBe('10m');
    expect(spec.version).toBe('2.3.1');
  });

  it('keeps an explicit version, and an explicitly empty steps list (promote at once)', () => {
    const spec = specOf(parseRolloutSpec({ ...minimal(), version: 'v2-rc.1', steps: [] }));
    expect(spec.version).toBe('v2-rc.1');
    expect(spec.steps).toEqual([]);
  });

  it('takes the tag, not the registry port, as the default version', () => {
    const spec = specOf(parseRolloutSpec({ ...minimal(), image: 'localhost:5000/team/checkout:1.2.3@sha256:' + 'a'.repeat(64) }));
    expect(spec.version).toBe('1.2.3');
  });

  it('fills in the analysis defaults when only metrics are given', () => {
    const spec = specOf(parseRolloutSpec({ ...minimal(), analysis: { metrics: [{ name: 'm', query: 'vector(1)', min: 0 }] } }));
    expect(spec.analysis).toEqual({
      interval: '30s',
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
      metrics: [{ name: 'm', query: 'vector(1)', min: 0 }],
    });
  });

  it('does not change the object it is given', () => {
    const input = minimal();
    const before = structuredClone(input);
    parseRolloutSpec(input);
    expect(input).toEqual(before);
  });
});

describe('parseRolloutSpec: YAML and JSON', () => {
  it('reads YAML text, JSON text and the object alike', () => {
    const object = parseYaml(EXAMPLE_YAML) as unknown;
    const fromYaml = parseRolloutSpec(EXAMPLE_YAML);
    expect(parseRolloutSpec(JSON.stringify(object), 'json')).toEqual(fromYaml);
    expect(parseRolloutSpec(JSON.stringify(object, null, 2))).toEqual(fromYaml);
    expect(parseRolloutSpec(object)).toEqual(fromYaml);
  });

  it('gives the same result, errors included, for the YAML and the JSON of any variant of a file', () => {
    const variant = fc.record({
      setWeight: fc.oneof(fc.integer({ min: -5, max: 120 }), fc.constant('10')),
      maxParallel: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant(undefined)),
      scope: fc.constantFrom('all', 'wave', 'cluster', 'none'),
      interval: fc.constantFrom('30s', '1m', '500ms', '30', 'x'),
      version: fc.oneof(fc.constant(undefined), fc.constantFrom('1.0', '1.0.0', 'Bad Version')),
    });
    fc.assert(
      fc.property(variant, (v) => {
        const object = {
          ...minimal(),
          ...(v.version !== undefined ? { version: v.version } : {}),
          steps: [{ setWeight: v.setWeight }],
          analysis: { interval: v.interval, metrics: [{ name: 'm', query: 'vector(1)', max: 1 }] },
          waves: [{ name: 'w', clusters: ['a'], ...(v.maxParallel !== undefined ? { maxParallel: v.maxParallel } : {}) }],
          rollback: { scope: v.scope },
        };
        const strip = (result: ParseResult) =>
          result.ok ? result : { ok: false, errors: result.errors.map(({ path, message }) => ({ path, message })) };
        expect(strip(parseRolloutSpec(toYaml(object), 'yaml'))).toEqual(strip(parseRolloutSpec(JSON.stringify(object), 'json')));
      }),
    );
  });
});

describe('parseRolloutSpec: every error names its path and what is expected', () => {
  it.each<[string, (string | number)[], unknown, string, RegExp]>([
    ['an app that is not a DNS label', ['app'], 'Checkout', '/app', /must be an app name: lowercase letters.*got "Checkout"/],
    ['a missing namespace', ['namespace'], undefined, '/namespace', /is required: a namespace/],
    ['a workload kind other than Deployment', ['workload', 'kind'], 'StatefulSet', '/workload/kind', /^must be "Deployment", the only kind Oleada rolls out today, got "StatefulSet"$/],
    ['a missing container', ['workload', 'container'], undefined, '/workload/container', /is required: a container name/],
    ['a workload name too long for its canary', ['workload', 'name'], 'a'.repeat(247), '/workload/name', /<name>-canary fits/],
    ['an image that is not an image reference', ['image'], 'not an image!', '/image', /must be an image reference such as/],
    ['a version YAML read as a number', ['version'], 2.3, '/version', /got 2\.3: put the value in quotes so that YAML keeps it as text/],
    ['a weight of 0', ['steps'], [{ setWeight: 0 }], '/steps/0/setWeight', /must be a whole number from 1 to 100, got 0/],
    ['a fractional weight', ['steps'], [{ setWeight: 12.5 }], '/steps/0/setWeight', /must be a whole number from 1 to 100, got 12\.5/],
    ['a weight written as text', ['steps'], [{ setWeight: '10' }], '/steps/0/setWeight', /got "10": write it without quotes/],
    ['a pause with no value', ['steps'], [{ pause: null }], '/steps/0/pause', /must be an object such as \{\} .*got nothing/],
    ['a pause duration without a unit', ['steps'], [{ pause: { duration: 30 } }], '/steps/0/pause/duration', /got 30: add a unit, such as "30s"/],
    ['a step that is both kinds', ['steps'], [{ setWeight: 5, pause: {} }], '/steps/0', /has both setWeight and pause; give exactly one/],
    ['a step that is neither', ['steps'], [{}], '/steps/0', /needs setWeight or pause/],
    ['steps that are not a list', ['steps'], { setWeight: 10 }, '/steps', /must be a list, got an object with setWeight/],
    ['an interval under a second', ['analysis'], { interval: '500ms', metrics: [] }, '/analysis/interval', /must be at least 1s, got "500ms"/],
    ['a negative failureLimit', ['analysis'], { failureLimit: -1 }, '/analysis/failureLimit', /must be a whole number ≥ 0, got -1/],
    ['a metric without a query', ['analysis'], { metrics: [{ name: 'm', max: 1 }] }, '/analysis/metrics/0/query', /is required: a non-empty string/],
    ['a metric bound that is not finite', ['analysis'], { metrics: [{ name: 'm', query: 'q', max: Number.POSITIVE_INFINITY }] }, '/analysis/metrics/0/max', /must be a number, got Infinity/],
    ['no waves', ['waves'], [], '/waves', /must be a list of waves with at least 1 entry, got an empty list/],
    ['maxParallel of 0', ['waves', 0, 'maxParallel'], 0, '/waves/0/maxParallel', /^must be a whole number ≥ 1, got 0$/],
    ['a wave with no clusters', ['waves', 0, 'clusters'], [], '/waves/0/clusters', /list of cluster names .* at least 1 entry/],
    ['a wave with clusters and a selector', ['waves', 0, 'selector'], { region: 'eu' }, '/waves/0', /has both clusters and selector/],
    ['a wave with neither clusters nor a selector', ['waves', 0, 'clusters'], undefined, '/waves/0', /needs clusters or selector/],
    ['approval that is not a boolean', ['waves', 0, 'approval'], 'yes', '/waves/0/approval', /must be true or false, got "yes"/],
    ['an unknown rollback scope', ['rollback'], { scope: 'everything' }, '/rollback/scope', /must be one of all, wave, cluster, got "everything"/],
    ['a zero progress deadline', ['progressDeadline'], '0s', '/progressDeadline', /must be longer than 0s/],
    ['a document that is a list', [], undefined, '', /must be an object/],
  ])('reports %s', (_, path, value, pointer, message) => {
    const input = path.length === 0 ? ['not', 'a', 'rollout'] : withChange(path, value);
    const errors = errorsOf(parseRolloutSpec(input));
    expect(errors).toContainEqual(expect.objectContaining({ path: pointer, message: expect.stringMatching(message) }));
  });

  it('reports an empty selector, which would pick every cluster', () => {
    const input = { ...minimal(), waves: [{ name: 'all', selector: {} }] };
    expect(errorsOf(parseRolloutSpec(input))).toEqual([
      { path: '/waves/0/selector', message: expect.stringMatching(/^must be labels that pick clusters.*got an empty object$/) },
    ]);
  });

  it('reports a selector key that is not a label key, escaping the pointer', () => {
    const input = { ...minimal(), waves: [{ name: 'w', selector: { 'app.kubernetes.io/name': 'x', 'bad key': 'y' } }] };
    expect(errorsOf(parseRolloutSpec(input))).toEqual([
      { path: '/waves/0/selector/bad key', message: expect.stringMatching(/^key "bad key" is not valid: must be a label key/) },
    ]);
  });

  it('refuses setWeight 100 and says that promotion is what reaches 100%', () => {
    const errors = errorsOf(parseRolloutSpec({ ...minimal(), steps: [{ setWeight: 50 }, { setWeight: 100 }] }));
    expect(errors).toEqual([{ path: '/steps/1/setWeight', message: expect.stringMatching(/must be at most 99, got 100: promotion is what takes a cluster to 100%/) }]);
  });

  it('refuses weights that do not go up, in a wave override too', () => {
    const input = {
      ...minimal(),
      waves: [{ name: 'w', clusters: ['a'], steps: [{ setWeight: 30 }, { pause: {} }, { setWeight: 30 }] }],
    };
    expect(errorsOf(parseRolloutSpec(input))).toEqual([
      { path: '/waves/0/steps/2/setWeight', message: 'must be above the previous setWeight (30 at /waves/0/steps/0/setWeight), got 30: weights only go up' },
    ]);
  });

  it('refuses a metric without min or max, min above max, duplicate names and unknown template variables', () => {
    const input = {
      ...minimal(),
      analysis: {
        metrics: [
          { name: 'a', query: 'vector(1)' },
          { name: 'b', query: 'vector(1)', min: 2, max: 1 },
          { name: 'a', query: 'x{pod="{{pod}}"}', max: 1 },
        ],
      },
    };
    expect(errorsOf(parseRolloutSpec(input))).toEqual([
      { path: '/analysis/metrics/2/name', message: 'metric name "a" is already used at /analysis/metrics/0; metric names must be unique' },
      { path: '/analysis/metrics/0', message: 'needs min, max or both: a metric without a threshold can never fail' },
      { path: '/analysis/metrics/1/min', message: 'must not be above max (1), got 2' },
      { path: '/analysis/metrics/2/query', message: expect.stringMatching(/unknown template variable \{\{pod\}\}; known: app, namespace, cluster/) },
    ]);
  });

  it('refuses duplicate wave names', () => {
    const input = { ...minimal(), waves: [{ name: 'w', clusters: ['a'] }, { name: 'w', clusters: ['b'] }] };
    expect(errorsOf(parseRolloutSpec(input))).toEqual([
      { path: '/waves/1/name', message: 'wave name "w" is already used at /waves/0; wave names must be unique' },
    ]);
  });

  it('asks for a version when the image has no usable tag', () => {
    const digest = `registry.example.com/checkout@sha256:${'a'.repeat(64)}`;
    expect(errorsOf(parseRolloutSpec({ ...minimal(), image: digest }))).toEqual([
      { path: '/version', message: expect.stringMatching(/is required because the image has no tag/) },
    ]);
    expect(errorsOf(parseRolloutSpec({ ...minimal(), image: `checkout:${'x'.repeat(70)}` }))).toEqual([
      { path: '/version', message: expect.stringMatching(/is required because the image tag .* is not a valid label value/) },
    ]);
  });

  it('reports every problem at once, not only the first', () => {
    const input = { ...minimal(), app: 'Bad', namespace: 'Bad', waves: [{ name: 'Bad', clusters: ['Bad'] }] };
    expect(errorsOf(parseRolloutSpec(input)).map((error) => error.path)).toEqual(['/app', '/namespace', '/waves/0/name', '/waves/0/clusters/0']);
  });
});

describe('parseRolloutSpec: unknown fields', () => {
  it('names an unknown field, says it is not allowed, and suggests the field meant', () => {
    const errors = errorsOf(parseRolloutSpec({ ...minimal(), waves: [{ name: 'w', clusters: ['a'], maxParalel: 2 }] }));
    expect(errors).toEqual([{ path: '/waves/0/maxParalel', message: 'unknown field "maxParalel" is not allowed; did you mean "maxParallel"?' }]);
  });

  it('suggests across case and snake_case', () => {
    const errors = errorsOf(parseRolloutSpec({ ...minimal(), progress_deadline: '5m', Image: 'x' }));
    expect(errors.map((error) => error.message)).toEqual([
      'unknown field "progress_deadline" is not allowed; did you mean "progressDeadline"?',
      'unknown field "Image" is not allowed; did you mean "image"?',
    ]);
  });

  it('lists the allowed fields when nothing is close', () => {
    const errors = errorsOf(parseRolloutSpec({ ...minimal(), rollback: { scope: 'all', when: 'always' } }));
    expect(errors).toEqual([{ path: '/rollback/when', message: 'unknown field "when" is not allowed; allowed here: scope' }]);
  });

  it('names a misspelt step kind rather than saying the step is empty', () => {
    const errors = errorsOf(parseRolloutSpec({ ...minimal(), steps: [{ setweight: 10 }] }));
    expect(errors).toEqual([{ path: '/steps/0/setweight', message: 'unknown field "setweight" is not allowed; did you mean "setWeight"?' }]);
  });

  it('refuses fields inside a pause and the workload', () => {
    const errors = errorsOf(parseRolloutSpec({ ...withChange(['workload', 'replicas'], 3), steps: [{ pause: { duraton: '1m' } }] }));
    expect(errors.map((error) => error.path)).toEqual(['/workload/replicas', '/steps/0/pause/duraton']);
    expect(errors[1]!.message).toMatch(/did you mean "duration"/);
  });
});

describe('parseRolloutSpec: positions in text', () => {
  it('turns a YAML syntax error into an error with line and column', () => {
    const errors = errorsOf(parseRolloutSpec('app: checkout\nwaves: [\n  { name: a\n'));
    expect(errors[0]).toMatchObject({ path: '', line: expect.any(Number), column: expect.any(Number) });
    expect(errors[0]!.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('refuses duplicate keys, which YAML would otherwise resolve silently', () => {
    const errors = errorsOf(parseRolloutSpec('app: a\napp: b\n'));
    expect(errors[0]).toMatchObject({ line: 2, column: 1, message: expect.stringMatching(/unique/) });
  });

  it('turns a JSON syntax error into an error with line and column', () => {
    const errors = errorsOf(parseRolloutSpec('{\n  "app": "checkout",\n}', 'json'));
    expect(errors).toEqual([{ path: '', line: 3, column: 1, message: expect.stringMatching(/^JSON syntax error at line 3, column 1: /) }]);
  });

  it('points validation errors at the line of the field in YAML and JSON', () => {
    const yaml = EXAMPLE_YAML.replace('maxParallel: 1', 'maxParallel: 0');
    const [error] = errorsOf(parseRolloutSpec(yaml));
    const line = yaml.split('\n').findIndex((text) => text.includes('maxParallel: 0')) + 1;
    expect(error).toMatchObject({ path: '/waves/1/maxParallel', line });

    const json = JSON.stringify({ ...minimal(), waves: [{ name: 'w', clusters: ['a'], maxParallel: 0 }] }, null, 2);
    const [jsonError] = errorsOf(parseRolloutSpec(json, 'json'));
    expect(jsonError).toMatchObject({ path: '/waves/0/maxParallel', line: json.split('\n').findIndex((text) => text.includes('maxParallel')) + 1 });
  });

  it('refuses several YAML documents in one file', () => {
    expect(errorsOf(parseRolloutSpec('app: a\n---\napp: b\n'))[0]!.message).toMatch(/multiple documents/);
  });

  it('refuses an empty file', () => {
    expect(errorsOf(parseRolloutSpec(''))).toEqual([{ path: '', message: expect.stringMatching(/must be an object, got nothing/) }]);
  });
});

/** Every path in a JSON value, for mutation. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(value.flatMap((item, index) => paths(item, [...prefix, index])));
  if (value && typeof value === 'object') {
    return here.concat(Object.entries(value).flatMap(([key, child]) => paths(child, [...prefix, key])));
  }
  return here;
}

function mutate(base: unknown, path: (string | number)[], action: 'replace' | 'delete' | 'add', value: unknown): unknown {
  if (path.length === 0) return action === 'replace' ? value : base;
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let node = copy;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (action === 'replace') node[last] = value;
  else if (action === 'delete') {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else if (node[last] && typeof node[last] === 'object' && !Array.isArray(node[last])) {
    (node[last] as Record<string, unknown>).extraField = value;
  }
  return copy;
}

describe('parseRolloutSpec: never throws', () => {
  const answers = (result: ParseResult) => {
    if (result.ok) return;
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(typeof error.path).toBe('string');
      expect(error.path === '' || error.path.startsWith('/')).toBe(true);
      expect(error.message.length).toBeGreaterThan(0);
    }
  };

  it('answers any value with a spec or errors', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withMap: true, withSet: true, withDate: true }), (input) => answers(parseRolloutSpec(input))), {
      numRuns: 500,
    });
  });

  it('answers any text, as YAML or JSON, with a spec or errors', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), fc.constantFrom('yaml', 'json', undefined), (text, format) =>
        answers(parseRolloutSpec(text, format as 'yaml' | 'json' | undefined)),
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a billion-laughs file with a message that says what to do, before expanding it', () => {
    const levels = 'abcdefghij'.split('');
    const bomb = [`a: &a [${Array(9).fill('lol').join(', ')}]`, ...levels.slice(1).map((k, i) => `${k}: &${k} [${Array(9).fill(`*${levels[i]}`).join(', ')}]`)].join('\n');
    const result = parseRolloutSpec(bomb);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors[0]!.message).toMatch(/aliases expand more than 50 times, as a "billion laughs" document does/);
  });

  it('answers cyclic objects and YAML alias cycles', () => {
    const cyclic: Record<string, unknown> = minimal();
    cyclic.waves = [cyclic];
    answers(parseRolloutSpec(cyclic));
    answers(parseRolloutSpec('app: &a [*a]\n'));
  });

  it('answers mutated rollout files with a spec or errors', () => {
    const base = parseYaml(EXAMPLE_YAML) as unknown;
    const all = paths(base);
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), action, mutationValue, (index, how, value) => {
        answers(parseRolloutSpec(mutate(base, all[index]!, how, value)));
      }),
      { numRuns: 500 },
    );
  });
});

const action = fc.constantFrom<'replace' | 'delete' | 'add'>('replace', 'delete', 'add');
const mutationValue = fc.oneof(fc.anything(), fc.integer({ min: -2, max: 120 }), fc.constantFrom('30s', '0s', '', 'all', 'x', 'prod-eu-1', true));

describe('validate agrees with the TypeBox schema it reads', () => {
  it('accepts exactly what TypeBox accepts, except durations under their minimum', () => {
    const base = parseYaml(EXAMPLE_YAML) as unknown;
    const all = paths(base);
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), action, mutationValue, (index, how, value) => {
        const input = mutate(base, all[index]!, how, value);
        const ours = validate(RolloutSpecSchema, input);
        if (ours.errors.length === 0) expect(Value.Check(RolloutSpecSchema, ours.value)).toBe(true);
        const theirs = Value.Check(RolloutSpecSchema, Value.Default(RolloutSpecSchema, structuredClone(input)));
        if (theirs) {
          for (const error of ours.errors) expect(error.message).toMatch(/^must be (at least \S+|longer than 0s), got/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
