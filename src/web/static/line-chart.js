// A small SVG line chart for the dashboard, written here so the page works offline with no
// CDN and no dependency: time on x, one line per series, gaps where a value is null (a
// bucket without requests is unknown, not zero), optional threshold lines. The latest value
// of each series is shown in the legend. The <svg> carries `data-points`, the number of
// plotted points, for tests and for anyone inspecting the page.
import { h, svg, replaceChildren } from './safe-dom.js';

const WIDTH = 240;
const HEIGHT = 130;
const MARGIN = { left: 34, right: 8, top: 10, bottom: 18 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;
const TICKS = 3;

/** A step of 1, 2 or 5 times a power of ten that splits `span` into about TICKS parts. */
function niceStep(span) {
  const raw = span / TICKS;
  const power = 10 ** Math.floor(Math.log10(raw));
  const mantissa = raw / power;
  return (mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 5 ? 5 : 10) * power;
}

function domain(values, { includeZero, ceiling }) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (includeZero) lo = Math.min(lo, 0);
  if (hi - lo < 1e-9) {
    hi = lo === 0 ? 1 : hi + Math.abs(hi) * 0.1;
    lo = includeZero ? lo : lo - (hi - lo);
  }
  const step = niceStep(hi - lo);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  if (ceiling !== undefined) hi = Math.min(hi, Math.max(ceiling, lo + step));
  return { lo, hi, step };
}

/**
 * A time-axis label for a point `ms` before the latest one: `now`, seconds under two minutes
 * (a short run's axis, `-30s`), else minutes (`-2.5m`).
 */
export function timeAgo(ms) {
  if (ms < 500) return 'now';
  if (ms < 120_000) return `-${Math.round(ms / 1000)}s`;
  const minutes = ms / 60000;
  return Number.isInteger(minutes) ? `-${minutes}m` : `-${minutes.toFixed(1)}m`;
}

/** `d` of a path through the non-null points, a new subpath after each gap. */
function pathData(points) {
  let d = '';
  let drawing = false;
  for (const point of points) {
    if (point === null) {
      drawing = false;
      continue;
    }
    d += `${drawing ? 'L' : 'M'}${point[0].toFixed(1)},${point[1].toFixed(1)}`;
    drawing = true;
  }
  return d;
}

function isolated(points, i) {
  return points[i] !== null && (points[i - 1] ?? null) === null && (points[i + 1] ?? null) === null;
}

/**
 * A chart. Options: `name` (data-chart attribute), `title`, `format(value)` for ticks and
 * legend, `includeZero` (default true), `ceiling` (highest y shown, e.g. 100 for a rate).
 * Returns `{element, update({fromMs, toMs, timestamps, series, thresholds})}`, where each
 * series is `{label, className, values}` and each threshold `{value, label}`.
 */
export function createLineChart({ name, title, format, includeZero = true, ceiling }) {
  const legend = h('span', { class: 'legend' });
  const plot = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': title,
    'data-chart': name,
    'data-points': 0,
  });
  const element = h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, h('span', { class: 'title' }, title), legend),
    plot,
  );

  function update({ fromMs, toMs, timestamps, series, thresholds = [] }) {
    const x = (t) => MARGIN.left + ((t - fromMs) / (toMs - fromMs)) * PLOT_WIDTH;
    const values = series.flatMap((s) => s.values.filter((v) => v !== null));
    const { lo, hi, step } = domain([...values, ...thresholds.map((t) => t.value)], { includeZero, ceiling });
    const y = (v) => MARGIN.top + (1 - (v - lo) / (hi - lo)) * PLOT_HEIGHT;
    const nodes = [];
    for (let tick = lo; tick <= hi + step / 2; tick += step) {
      nodes.push(
        svg('line', { class: 'grid', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }),
      );
      nodes.push(
        svg(
          'text',
          { class: 'tick', x: MARGIN.left - 4, y: y(tick) + 3, 'text-anchor': 'end' },
          format(tick),
        ),
      );
    }
    for (const at of [fromMs, (fromMs + toMs) / 2, toMs]) {
      const anchor = at === fromMs ? 'start' : at === toMs ? 'end' : 'middle';
      nodes.push(
        svg('text', { class: 'tick', x: x(at), y: HEIGHT - 5, 'text-anchor': anchor }, timeAgo(toMs - at)),
      );
    }
    for (const threshold of thresholds) {
      nodes.push(
        svg('line', {
          class: 'threshold',
          x1: MARGIN.left,
          x2: WIDTH - MARGIN.right,
          y1: y(threshold.value),
          y2: y(threshold.value),
        }),
        svg(
          'text',
          {
            class: 'threshold-label',
            x: WIDTH - MARGIN.right - 2,
            y: y(threshold.value) - 3,
            'text-anchor': 'end',
          },
          threshold.label,
        ),
      );
    }
    let plotted = 0;
    const latest = [];
    for (const s of series) {
      const points = s.values.map((v, i) => (v === null ? null : [x(timestamps[i]), y(v)]));
      plotted += points.filter((p) => p !== null).length;
      nodes.push(svg('path', { class: `line ${s.className}`, d: pathData(points) }));
      points.forEach((p, i) => {
        if (isolated(points, i))
          nodes.push(svg('circle', { class: `dot ${s.className}`, cx: p[0], cy: p[1], r: 2 }));
      });
      const last = [...s.values].reverse().find((v) => v !== null);
      latest.push(
        h('span', { class: `key ${s.className}` }, `${s.label} ${last === undefined ? '–' : format(last)}`),
      );
    }
    plot.setAttribute('data-points', String(plotted));
    replaceChildren(plot, nodes);
    replaceChildren(legend, latest);
  }

  return { element, update };
}
