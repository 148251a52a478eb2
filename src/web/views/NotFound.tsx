import { Link } from '../router.tsx';

export function NotFound(props: { what: string }) {
  return (
    <main id="main" class="not-found">
      <h1>Not found</h1>
      <p>{props.what}</p>
      <p>
        <Link href="/rollouts">Back to all rollouts</Link>
      </p>
    </main>
  );
}
