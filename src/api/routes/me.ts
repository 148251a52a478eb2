/** Who the token is and what it may do, so a client (the dashboard) shows only the actions the API would accept. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { principalOf } from '../auth/access.ts';
import { roleAllows, ROLES } from '../auth/tokens.ts';
import { COMMON_ERRORS } from '../schemas.ts';

export const WhoAmISchema = Type.Object({
  name: Type.String({ description: 'the token name, written to the event log as the actor' }),
  role: Type.Enum(ROLES),
  apps: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'the app globs the token is limited to; null means every app' }),
  may: Type.Object({
    read: Type.Boolean({ description: 'list and read rollouts, events, analysis, clusters' }),
    command: Type.Boolean({ description: 'create rollouts and give commands (promote, approve, pause, resume, abort)' }),
  }),
});

export function meRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/api/v1/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'Who this token is: its name, role and app globs',
          security: [{ bearer: [] }],
          response: { 200: WhoAmISchema, ...COMMON_ERRORS },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return {
          name: principal.name,
          role: principal.role,
          apps: principal.apps ?? null,
          may: { read: true, command: roleAllows(principal.role, 'deployer') },
        };
      },
    );
  };
}
