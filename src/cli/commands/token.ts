/** `oleada token create`: a new API token, printed once, and the line that grants it in the tokens file. */
import { stringify } from 'yaml';
import { createToken, ROLES, TokensFileError, type Role } from '../../api/auth/tokens.ts';
import { requiredOption, stringOption, UsageError, type Command } from '../command.ts';

const USAGE = `Usage: oleada token create --name NAME --role viewer|deployer|admin [--apps PATTERN]

Prints a new random token and the entry to add under \`tokens:\` in the tokens file (OLEADA_TOKENS_FILE).
The file keeps only the token's SHA-256, so the token itself is shown this once: store it as a CI secret
(OLEADA_TOKEN). The API reloads the tokens file within seconds of a change.

  --name NAME       who the token is; it is the actor in the rollout's event log
  --role ROLE       viewer reads; deployer also creates rollouts and gives commands; admin may do everything
  --apps PATTERN    limit the token to apps matching this glob, e.g. "checkout-*"
  --output json     print { token, entry } as JSON instead`;

export const tokenCommand: Command = {
  name: 'token',
  summary: 'make an API token and its tokens-file entry',
  usage: USAGE,
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    role: { type: 'string' },
    apps: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(args) {
    const [sub, ...rest] = args.positionals;
    if (sub !== 'create' || rest.length > 0) throw new UsageError('the only sub-command is `token create`');
    const name = requiredOption(args, 'name');
    const role = requiredOption(args, 'role');
    if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`);
    let created: ReturnType<typeof createToken>;
    try {
      created = createToken(name, role as Role, stringOption(args, 'apps'));
    } catch (err) {
      if (err instanceof TokensFileError) throw new UsageError(err.message);
      throw err;
    }
    if (stringOption(args, 'output') === 'json') {
      console.log(JSON.stringify(created));
      return 0;
    }
    console.log(`token: ${created.token}`);
    console.log('');
    console.log('Add this entry under `tokens:` in the tokens file:');
    console.log(stringify([created.entry]).trimEnd().replace(/^/gm, '  '));
    return 0;
  },
};
