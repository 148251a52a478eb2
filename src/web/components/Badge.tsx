import type { Tone } from '../format.ts';

/** A state as a symbol and a word; the colour only repeats what the text says. */
export function Badge(props: { state: { label: string; symbol: string; tone: Tone }; prefix?: string }) {
  const { label, symbol, tone } = props.state;
  return (
    <span class={`badge tone-${tone}`}>
      <span aria-hidden="true">{symbol}</span> <span>{props.prefix ? `${props.prefix}: ${label}` : label}</span>
    </span>
  );
}
