/** TypeBox schemas shared by the routes: path parameters, query strings and pages. */
import { Type, type TSchema } from 'typebox';
import { ACTIVE_PHASES, TERMINAL_PHASES } from '../model/state.ts';
import { ProblemSchema } from './problem.ts';

/** A DNS-1123 label, as the rollout spec requires for app and cluster names. */
export const Name = (what: string) =>
  Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: `${what} (a DNS-1123 label)` });

export const RolloutIdParams = Type.Object(
  { id: Type.String({ format: 'uuid', description: 'the rollout id, a UUID' }) },
  { additionalProperties: false },
);

export const PhaseFilter = Type.Enum(
  [...ACTIVE_PHASES, ...TERMINAL_PHASES],
  { description: 'only rollouts in this phase' },
);

export const PageQueryFields = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'rollouts per page' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: '`next.cursor` of the previous page' })),
};

export const ListRolloutsQuery = Type.Object(
  {
    app: Type.Optional(Name('only rollouts of this app')),
    phase: Type.Optional(PhaseFilter),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);

export const AppRolloutsQuery = Type.Object(
  { phase: Type.Optional(PhaseFilter), ...PageQueryFields },
  { additionalProperties: false },
);

export function page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next: Type.Union([Type.Object({ cursor: Type.String(), href: Type.String() }), Type.Null()], {
      description: 'the next page, or null on the last one',
    }),
  });
}

/** A problem+json response, for the OpenAPI document. */
export const Problem = Type.Ref('Problem');

/** The error answers every authenticated route can give. */
export const COMMON_ERRORS = {
  400: Problem,
  401: Problem,
  403: Problem,
  429: Problem,
};

export { ProblemSchema };
