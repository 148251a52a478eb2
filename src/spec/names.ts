import { Type } from 'typebox';
import { DURATION_EXPECTED, DURATION_PATTERN } from './duration.ts';

/*
 * Schemas for the Kubernetes-shaped strings that rollout and clusters files share. Each carries `x-expected`, the
 * phrase that validation messages use ("must be <x-expected>, got ..."); OpenAPI keeps `x-` keywords as extensions.
 */

/** A DNS-1123 label: what Kubernetes accepts for namespace, container and label-like names. */
export function DnsLabel(what = 'a DNS-1123 label') {
  return Type.String({
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    maxLength: 63,
    'x-expected': `${what}: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
  });
}

/**
 * A Deployment name (a DNS-1123 subdomain). 246 characters rather than 253 so that `<name>-canary`, the deployment
 * Oleada creates next to it, is still a valid name.
 */
export function WorkloadName() {
  return Type.String({
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    maxLength: 246,
    'x-expected':
      "a Deployment name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 246 characters (so that <name>-canary fits)",
  });
}

export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';

/** A Kubernetes label value (may be empty, as in Kubernetes). */
export function LabelValue(options: { minLength?: number; what?: string } = {}) {
  return Type.String({
    pattern: LABEL_VALUE_PATTERN,
    maxLength: 63,
    ...(options.minLength !== undefined ? { minLength: options.minLength } : {}),
    'x-expected': `${options.what ?? 'a label value'}: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters`,
  });
}

const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

/**
 * Labels as Kubernetes writes them: keys are `name` or `prefix/name` (app.kubernetes.io/name), values label values.
 * Keys are held to the pattern by `propertyNames` rather than `additionalProperties: false`: TypeBox 1.4's
 * Value.Default throws on a record whose additionalProperties is `false` when a key misses the pattern.
 */
export function Labels(options: { minProperties?: number; expected?: string; default?: Record<string, string> } = {}) {
  const key = Type.String({ pattern: LABEL_KEY_PATTERN, maxLength: 317 });
  return Type.Record(key, LabelValue(), {
    propertyNames: {
      pattern: LABEL_KEY_PATTERN,
      maxLength: 317,
      'x-expected':
        "a label key: a name of letters, digits, '-', '_' and '.' (at most 63 characters), optionally after a DNS prefix and '/', such as app.kubernetes.io/name",
    },
    ...(options.minProperties !== undefined ? { minProperties: options.minProperties } : {}),
    ...(options.default !== undefined ? { default: options.default } : {}),
    'x-expected': options.expected ?? 'labels, such as { region: eu, env: prod }',
  });
}

/**
 * A duration string (see duration.ts). `minimumMs` is checked by validation (`x-minimum-ms`) because a pattern cannot
 * say "at least one second".
 */
export function Duration(options: { default?: string; minimumMs?: number } = {}) {
  return Type.String({
    pattern: DURATION_PATTERN,
    'x-expected': DURATION_EXPECTED,
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...(options.minimumMs !== undefined ? { 'x-minimum-ms': options.minimumMs } : {}),
  });
}
