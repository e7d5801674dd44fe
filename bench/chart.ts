/** The benchmark's ratios as a self-contained SVG bar chart: one bar per target, its threshold marked. */

export interface ChartRow {
  measure: string;
  value: number;
  target: string;
  met: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(rows: readonly ChartRow[], title: string): string {
  const ratios = rows.filter((r) => !r.measure.startsWith('IdP calls'));
  const threshold = (r: ChartRow) => Number(/[\d.]+/.exec(r.target)?.[0] ?? 1);
  const max = Math.max(1.5, ...ratios.map((r) => Math.max(r.value, threshold(r)) * 1.1));
  const left = 330;
  const width = 420;
  const rowHeight = 28;
  const top = 48;
  const height = top + ratios.length * rowHeight + 40;
  const x = (v: number) => left + (Math.min(v, max) / max) * width;
  const bars = ratios.map((r, i) => {
    const y = top + i * rowHeight;
    const colour = r.met ? '#2e7d32' : '#c62828';
    return [
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(r.measure)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${(x(r.value) - left).toFixed(1)}" height="18" fill="${colour}" opacity="0.85"/>`,
      `<line x1="${x(threshold(r)).toFixed(1)}" x2="${x(threshold(r)).toFixed(1)}" y1="${y}" y2="${y + 26}" stroke="#000" stroke-dasharray="3 2"/>`,
      `<text x="${(x(r.value) + 6).toFixed(1)}" y="${y + 17}">${r.value.toFixed(2)} (${esc(r.target)})</text>`,
    ].join('');
  });
  const ticks = [0, 0.5, 1, 1.5, 2, 2.5, 3]
    .filter((v) => v <= max)
    .map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="${top - 4}" y2="${height - 36}" stroke="#ddd"/><text x="${x(v)}" y="${height - 20}" text-anchor="middle">${v}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 120}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="12" y="40" fill="#555">Ratios; dashed line: the target; green met, red missed</text>
${ticks.join('\n')}
${bars.join('\n')}
</svg>
`;
}
