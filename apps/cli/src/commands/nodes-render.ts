/**
 * The federation service's answers (`GET /nodes`, `GET /nodes/<did>`, see
 * apps/federation/src/routes.ts) as text for a terminal. The answers are not signed
 * documents, only what one node says it sees: every field is read defensively and
 * control characters are replaced, so a node cannot rewrite the user's terminal.
 */

interface NodeSummary {
  node_id: string;
  operator: string;
  state: string;
  reasons: string[];
  bootstrap?: boolean;
  origin?: { operator: string; domain: string } | null;
}

interface NodeDetail extends NodeSummary {
  changes?: { at: string; from: string; to: string; reasons: string[] }[];
  attesters?: { attester: string; operator: string; counted: boolean; why?: string }[];
  reporters?: { reporter: string; operator: string; reason: string; counted: boolean; why?: string }[];
  findings?: { code: string; detail: string }[];
  reputation?: { nodes: number; observations: number; uptime_ppm: number | null; error_ppm: number | null; correctness_ppm: number | null };
}

/** Any value as one printable line. */
function text(value: unknown): string {
  return String(value ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function list<T>(value: T[] | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

/** `GET /nodes` as a table: node id, operator, state, first reason. */
export function renderNodeList(answer: unknown, state: string | undefined): string {
  const nodes = list((answer as { nodes?: NodeSummary[] } | null)?.nodes);
  if (nodes.length === 0) return state === undefined ? 'no node known' : `no node in state ${state}`;
  const rows = [['NODE', 'OPERATOR', 'STATE', 'REASON'], ...nodes.map((n) => [text(n.node_id), text(n.operator), text(n.state), text(list(n.reasons)[0])])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows.map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] as number) : cell)).join('  ').trimEnd()).join('\n');
}

function percent(ppm: number | null | undefined): string {
  return typeof ppm === 'number' ? `${(ppm / 10_000).toFixed(2)} %` : '-';
}

function counted(entry: { counted: boolean; why?: string }): string {
  return entry.counted ? 'counted' : `not counted: ${text(entry.why)}`;
}

/** `label  first` then the other values indented under the first; `none` for no value. */
function field(label: string, values: string[]): string[] {
  const pad = ' '.repeat(12);
  if (values.length === 0) return [`${label.padEnd(12)}none`];
  return values.map((value, i) => `${i === 0 ? label.padEnd(12) : pad}${value}`);
}

/** `GET /nodes/<did>`: state and why, attesters, reporters, findings, reputation, state changes. */
export function renderNodeDetail(answer: unknown): string {
  const n = (answer ?? {}) as NodeDetail;
  const r = n.reputation;
  return [
    ...field('node', [text(n.node_id)]),
    ...field('operator', [text(n.operator)]),
    ...field('state', [`${text(n.state)}${n.bootstrap ? ' (bootstrap node)' : ''}`]),
    ...field('reasons', list(n.reasons).map(text)),
    ...field('origin', n.origin ? [`ORIGIN_${text(n.origin.operator)} in domain ${text(n.origin.domain)}`] : []),
    ...field('attesters', list(n.attesters).map((a) => `${text(a.attester)} (operator ${text(a.operator)}): ${counted(a)}`)),
    ...field('reporters', list(n.reporters).map((p) => `${text(p.reporter)} (operator ${text(p.operator)}) reports ${text(p.reason)}: ${counted(p)}`)),
    ...field('findings', list(n.findings).map((f) => `${text(f.code)}: ${text(f.detail)}`)),
    ...field('reputation', r ? [
      `of the operator (${text(r.nodes)} node(s), ${text(r.observations)} observation(s)): uptime ${percent(r.uptime_ppm)}, errors ${percent(r.error_ppm)}, correctness ${percent(r.correctness_ppm)}`,
    ] : []),
    ...field('changes', list(n.changes).map((c) => `${text(c.at)}  ${text(c.from)} -> ${text(c.to)}${list(c.reasons).length ? `: ${list(c.reasons).map(text).join('; ')}` : ''}`)),
  ].join('\n');
}
