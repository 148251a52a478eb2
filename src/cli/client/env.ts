/**
 * The environment of the CLI's client commands. These two variables belong to the machine that calls Oleada (a CI
 * runner, a laptop), not to the service, so they are kept apart from the service's schema in src/config.ts.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { UsageError } from '../command.ts';

export const ClientEnvSchema = Type.Object({
  /** Where the Oleada API listens. */
  OLEADA_URL: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://127.0.0.1:8080' }),
  /** The bearer token sent with every request; `oleada token create` makes one. */
  OLEADA_TOKEN: Type.Optional(Type.String({ minLength: 1, pattern: '^[\\x21-\\x7e]+$' })),
});

export type ClientEnv = Static<typeof ClientEnvSchema>;

export function loadClientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ClientEnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const value = Value.Default(ClientEnvSchema, input);
  const [error] = Value.Errors(ClientEnvSchema, value);
  if (error) {
    const key = error.instancePath.split('/')[1] ?? '';
    const expected = key === 'OLEADA_URL' ? 'an http:// or https:// URL' : 'a token without spaces';
    throw new UsageError(`${key} is invalid: expected ${expected}`);
  }
  return value as ClientEnv;
}
