/** Who the token is and what it may do, so a client (the dashboard) shows only the actions the API would accept. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { principalOf } from '../auth/access.ts';
import { roleAllows } from '../auth/tokens.ts';
import { WhoAmISchema } from '../../model/dashboard-wire.ts';
import { COMMON_ERRORS } from '../schemas.ts';

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
