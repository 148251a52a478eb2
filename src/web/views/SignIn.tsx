import { useState } from 'preact/hooks';
import { api, ApiError, session, Unreachable } from '../api.ts';
import type { WhoAmI } from '../types.ts';

/** The token is checked against /api/v1/me before it is kept, so a typo is told at once, not on the next page. */
export function SignIn(props: { notice: string | null; onSignedIn: (me: WhoAmI) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const given = token.trim();
    if (!given) {
      setError('Enter a token: `oleada token create` makes one, and the tokens file grants it a role.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api.get<WhoAmI>('/api/v1/me', given);
      session.set(given);
      props.onSignedIn(answer.body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(`This token was refused: ${err.message}.`);
      else if (err instanceof Unreachable) setError('The Oleada API does not answer; try again in a moment.');
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <h1>Sign in to Oleada</h1>
      {props.notice && <p role="status">{props.notice}</p>}
      <form onSubmit={submit} noValidate>
        <label class="field">
          Token
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            value={token}
            aria-invalid={error !== null}
            aria-describedby={error ? 'sign-in-error' : 'sign-in-help'}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <p id="sign-in-help" class="help">
          The token stays in this browser tab only (sessionStorage) and goes to the API as a bearer token.
        </p>
        {error && (
          <p id="sign-in-error" role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
