/**
 * One metric's samples on one cluster, with its thresholds drawn as dashed lines and the failed samples marked, so a
 * person sees why a cluster failed. The caption says the same in words, for those who do not see the chart.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatValue } from '../format.ts';
import type { Sample } from '../types.ts';

export interface Threshold {
  min?: number;
  max?: number;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function MetricChart(props: { cluster: string; metric: string; samples: Sample[]; threshold: Threshold }) {
  const { samples, threshold, metric, cluster } = props;
  const box = useRef<HTMLDivElement>(null);
  const failed = samples.filter((s) => s.verdict === 'failed');

  useEffect(() => {
    const element = box.current;
    if (!element || samples.length === 0) return;
    const times = samples.map((s) => Date.parse(s.measuredAt) / 1000);
    // An empty sample at each end gives the thresholds a line across the whole chart, and a single sample a sane
    // time axis (uPlot would otherwise spread one point over years).
    const pad = Math.max(((times.at(-1) ?? 0) - (times[0] ?? 0)) * 0.05, 5);
    const xs = [times[0]! - pad, ...times, times.at(-1)! + pad];
    const values = [null, ...samples.map((s) => s.value), null];
    const failedValues = [null, ...samples.map((s) => (s.verdict === 'failed' ? s.value : null)), null];
    const data: uPlot.AlignedData = [xs, values, failedValues];
    const series: uPlot.Series[] = [
      {},
      { label: metric, stroke: cssVar('--chart-line'), width: 2, points: { size: 6 }, spanGaps: true },
      { label: 'failed', stroke: cssVar('--danger'), width: 0, points: { size: 10, fill: cssVar('--danger'), stroke: cssVar('--danger') } },
    ];
    for (const [name, value] of [['max', threshold.max], ['min', threshold.min]] as const) {
      if (value === undefined) continue;
      data.push(xs.map(() => value));
      series.push({ label: `${name} ${value}`, stroke: cssVar('--attention'), width: 1.5, dash: [6, 4], points: { show: false } });
    }
    const plot = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: 160,
        series,
        axes: [
          { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--grid') } },
          { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--grid') }, size: 60 },
        ],
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      element,
    );
    // A canvas keeps its width; follow the card when the window (or a phone's orientation) changes.
    const resize = new ResizeObserver(() => {
      if (element.clientWidth > 0 && element.clientWidth !== plot.width) plot.setSize({ width: element.clientWidth, height: 160 });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [samples, threshold.min, threshold.max, metric]);

  const limits = [threshold.max !== undefined && `max ${threshold.max}`, threshold.min !== undefined && `min ${threshold.min}`]
    .filter(Boolean)
    .join(', ');
  const last = samples.at(-1);
  return (
    <figure class="chart">
      <figcaption>
        {metric} on {cluster}: {samples.length} samples, {failed.length} failed
        {limits ? ` (threshold ${limits})` : ''}
        {failed.length > 0 ? `; failed values: ${failed.slice(-5).map((s) => formatValue(s.value)).join(', ')}` : ''}
        {last ? `; last ${formatValue(last.value)}` : ''}
      </figcaption>
      {samples.length > 0 ? <div ref={box} role="img" aria-label={`chart of ${metric} on ${cluster}`} /> : <p>No samples yet.</p>}
    </figure>
  );
}
