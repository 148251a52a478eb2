/** The shell: who is signed in, the navigation, the unreachable-API banner, and the view for the path. */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, session, Unreachable } from './api.ts';
import { Link, navigate, useLocation } from './router.tsx';
import type { WhoAmI } from './types.ts';
import { Clusters } from './views/Clusters.tsx';
import { Fleet } from './views/Fleet.tsx';
import { NotFound } from './views/NotFound.tsx';
import { RolloutList } from './views/RolloutList.tsx';
import { RolloutView } from './views/RolloutView.tsx';
import { SignIn } from './views/SignIn.tsx';

/** Who the token is, while /me has not answered yet: it may read (or the API will say otherwise), and act on nothing. */
const PENDING: WhoAmI = { name: '…', role: 'viewer', apps: null, may: { read: true, command: false } };

function useReachable(): boolean {
  const [reachable, setReachable] = useState(api.reachable);
  useEffect(() => api.subscribe(() => setReachable(api.reachable)), []);
  return reachable;
}

function Banner() {
  const reachable = useReachable();
  const { path } = useLocation();
  // While the API is down the views back off; a probe every few seconds notices it is back and wakes them.
  useEffect(() => {
    if (reachable) return;
    const timer = setInterval(() => void api.get('/healthz').catch(() => {}), 3000);
    return () => clearInterval(timer);
  }, [reachable, path]);
  return (
    <div role="status" aria-live="assertive">
      {!reachable && (
        <p class="banner">
          <span aria-hidden="true">⚠</span> The Oleada API is unreachable. This page shows the last data it received and
          reconnects by itself.
        </p>
      )}
    </div>
  );
}

export function App() {
  const { path } = useLocation();
  // With a token from earlier in this tab, the views start at once, read-only, and the actions appear when /me has
  // said what the token may do: the first data arrives one round trip sooner.
  const [me, setMe] = useState<WhoAmI | null>(session.token() !== null ? PENDING : null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    api.onUnauthorized = (message) => {
      session.clear();
      api.forget();
      setMe(null);
      setNotice(`Signed out: ${message}.`);
    };
    if (!session.token()) return;
    api
      .get<WhoAmI>('/api/v1/me')
      .then((answer) => setMe(answer.body))
      .catch((err: unknown) => {
        if (err instanceof Unreachable) setNotice('The Oleada API does not answer; sign in again when it is back.');
        else if (!(err instanceof ApiError)) throw err;
        setMe(null);
      });
  }, []);

  if (!me) {
    return (
      <>
        <Banner />
        <SignIn
          notice={notice}
          onSignedIn={(who) => {
            setNotice(null);
            setMe(who);
            if (path === '/' || path === '/sign-in') navigate('/rollouts', true);
          }}
        />
      </>
    );
  }

  const signOut = () => {
    session.clear();
    api.forget();
    setMe(null);
    setNotice('Signed out.');
    navigate('/sign-in');
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/rollouts" class="brand">
          Oleada
        </Link>
        <nav aria-label="Main">
          <Link href="/rollouts" aria-current={path === '/rollouts' || path === '/' ? 'page' : undefined}>
            Rollouts
          </Link>
          <Link href="/fleet" aria-current={path === '/fleet' ? 'page' : undefined}>
            Fleet
          </Link>
          <Link href="/clusters" aria-current={path === '/clusters' ? 'page' : undefined}>
            Clusters
          </Link>
        </nav>
        <span class="who">
          {me === PENDING
            ? 'checking the token…'
            : `${me.name} (${me.role}${me.apps ? `, apps ${me.apps.join(', ')}` : ''}${me.may.command ? '' : ', read-only'})`}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <Banner />
      <Route path={path} me={me} />
    </>
  );
}

function Route(props: { path: string; me: WhoAmI }) {
  const { path } = props;
  if (path === '/' || path === '/rollouts' || path === '/sign-in') return <RolloutList />;
  if (path === '/fleet') return <Fleet />;
  if (path === '/clusters') return <Clusters />;
  const match = /^\/rollouts\/([^/]+)$/.exec(path);
  if (match) return <RolloutView key={match[1]} id={decodeURIComponent(match[1]!)} me={props.me} />;
  return <NotFound what={`There is no page ${path}.`} />;
}
