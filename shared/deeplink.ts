/**
 * Deep links to a moment of an agent's run (issue 5): `loupe://agent/<id>?seq=N` in Electron and
 * `#/agent/<id>?seq=N` in the web view. Both carry the same fields; `task` and `at` are optional.
 * Pure, so main, the renderer and the server parse them the same way. Ids go through the same
 * allow-lists as everywhere else, so a link can never name a path.
 */
import { isAgentId, isTaskId, parseTimestamp } from './entry.js';

export interface AgentLink {
  agentId: string;
  /** The task holding the agent; absent means the newest task that has it. */
  taskId?: string;
  /** Open the replay just after this entry. */
  seq?: number;
  /** Or at this time (ISO 8601, as given). */
  at?: string;
}

const SCHEME_PREFIX = 'loupe://agent/';
const HASH_PREFIX = '#/agent/';

/** Parses `loupe://agent/<id>?…` or `#/agent/<id>?…` (also without the `#`). Returns null for anything else or a bad field. */
export function parseAgentLink(link: string): AgentLink | null {
  let rest: string;
  if (link.startsWith(SCHEME_PREFIX)) rest = link.slice(SCHEME_PREFIX.length);
  else if (link.startsWith(HASH_PREFIX)) rest = link.slice(HASH_PREFIX.length);
  else if (link.startsWith(HASH_PREFIX.slice(1))) rest = link.slice(HASH_PREFIX.length - 1);
  else return null;
  const q = rest.indexOf('?');
  let rawId = q < 0 ? rest : rest.slice(0, q);
  if (rawId.endsWith('/')) rawId = rawId.slice(0, -1);
  let agentId: string;
  try {
    agentId = decodeURIComponent(rawId);
  } catch {
    return null;
  }
  if (!isAgentId(agentId)) return null;
  const out: AgentLink = { agentId };
  if (q < 0) return out;
  for (const pair of rest.slice(q + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' '));
    } catch {
      return null;
    }
    if (key === 'seq') {
      if (!/^\d{1,15}$/.test(value) || Number(value) < 1) return null;
      out.seq = Number(value);
    } else if (key === 'task') {
      if (!isTaskId(value)) return null;
      out.taskId = value;
    } else if (key === 'at') {
      if (Number.isNaN(parseTimestamp(value))) return null;
      out.at = value;
    }
    // Unknown keys are ignored, so newer links still open in older versions.
  }
  return out;
}

function query(link: AgentLink): string {
  const parts: string[] = [];
  if (link.taskId !== undefined) parts.push(`task=${encodeURIComponent(link.taskId)}`);
  if (link.seq !== undefined) parts.push(`seq=${link.seq}`);
  if (link.at !== undefined) parts.push(`at=${encodeURIComponent(link.at)}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** `loupe://agent/<id>?seq=N` (for Electron's protocol handler). */
export function formatAgentLink(link: AgentLink): string {
  return `${SCHEME_PREFIX}${encodeURIComponent(link.agentId)}${query(link)}`;
}

/** `#/agent/<id>?seq=N` (for the web view's location hash). */
export function formatAgentHash(link: AgentLink): string {
  return `${HASH_PREFIX}${encodeURIComponent(link.agentId)}${query(link)}`;
}
