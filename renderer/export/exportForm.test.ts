import { describe, expect, it } from 'vitest';
import { downloadHref, exportRequest, FormError, initialForm, wholeRun, type ExportTarget } from './exportForm.js';

const agent: ExportTarget = { root: '/r', taskId: 'TASK-20260101-120000-0a1b2c3d', agentId: 'alpha', agentIds: ['alpha'], paneKey: 'k' };
const task: ExportTarget = { ...agent, agentId: null, agentIds: ['alpha', 'beta'], paneKey: null };

describe('export form', () => {
  it("starts from the pane's filter when one is active", () => {
    const { form, source } = initialForm(agent, { filter: { types: ['stderr'], minLevel: 'error', grep: 'boom' }, replaySeq: 40 });
    expect(source).toBe('filter');
    expect(exportRequest(agent, form).slice).toEqual({ types: ['stderr'], minLevel: 'error', grep: 'boom' });
  });

  it('starts up to the replay position when the pane is replaying', () => {
    const { form, source } = initialForm(agent, { filter: null, replaySeq: 40 });
    expect(source).toBe('replay');
    expect(exportRequest(agent, form).slice).toEqual({ toSeq: 40 });
  });

  it('starts with the whole run, redaction on, for a task or a pane without filter or replay', () => {
    for (const [target, pane] of [[task, null], [agent, { filter: null, replaySeq: null }]] as const) {
      const { form, source } = initialForm(target, pane);
      expect(source).toBe('whole');
      const request = exportRequest(target, form);
      expect(request.slice).toBeUndefined();
      expect(request.redact).toBe(true);
      expect(request.format).toBe('replay-html');
    }
    expect(exportRequest(task, initialForm(task, null).form).agentId).toBeUndefined();
  });

  it('refuses an entry number that is not one, and a reversed range', () => {
    const { form } = initialForm(agent, null);
    expect(() => exportRequest(agent, { ...form, fromSeq: '1e3' })).toThrow(FormError);
    expect(() => exportRequest(agent, { ...form, fromSeq: '9', toSeq: '3' })).toThrow(/swap/);
    expect(exportRequest(agent, { ...form, fromSeq: ' 3 ', since: '15m' }).slice).toEqual({ fromSeq: 3, since: '15m' });
  });

  it('Whole run clears the slice and keeps format and redaction', () => {
    const { form } = initialForm(agent, { filter: { types: ['stderr'], minLevel: null, grep: 'x' }, replaySeq: null });
    const cleared = wholeRun({ ...form, redact: false });
    expect(exportRequest(agent, cleared)).toMatchObject({ format: 'text', redact: false });
    expect(exportRequest(agent, cleared).slice).toBeUndefined();
  });

  it('puts the request in one JSON query parameter of the download path', () => {
    const request = exportRequest(agent, initialForm(agent, null).form);
    const href = downloadHref({ ...request, progressId: 'p' });
    expect(href.startsWith('/export?request=')).toBe(true);
    expect(JSON.parse(new URLSearchParams(href.slice(href.indexOf('?'))).get('request')!)).toEqual(request);
  });
});
