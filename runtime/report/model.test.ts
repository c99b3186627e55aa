import { describe, expect, it } from 'vitest';
import type { ReportData, ReportResponse } from '../../data/index.js';
import { BUNDLED_PROTOCOL, loadProtocol } from '../../study-protocol/index.js';
import { buildReportModel } from './model.js';

const loaded = loadProtocol(BUNDLED_PROTOCOL);

/** Rows of a file with the given participants (id → condition) and story-empathy answers per session. */
function data(participants: Record<string, string>, answers: [participant: string, session: string, values: (number | null)[]][], hash = loaded.hash): ReportData {
  const items = ['se_similar_emotions', 'se_relate', 'se_feel_for', 'se_distant'];
  const responses: ReportResponse[] = answers.flatMap(([participantId, sessionId, values]) => values.map((value, i) => ({
    participantId, sessionId, studyDay: 1, condition: participants[participantId]!, instrument: 'story_empathy', item: items[i]!, value,
    status: value === null ? 'skipped' : 'answered', scoringVersion: 'story-empathy-1',
  })));
  return {
    source: { path: '/x.sqlite', kind: 'device', schemaVersion: 6, deviceIds: ['d'], collections: 0 },
    participants: Object.entries(participants).map(([participantId, condition]) => ({
      participantId, deviceId: 'd', condition, startDate: '2026-03-01', tz: 'UTC', status: 'active', protocolId: 'empathic-stories-home', protocolHash: hash,
    })),
    adherence: [], sessions: [], affect: [], responses, safeguards: [], incidents: [], completeness: [],
  };
}

describe('report model: the primary comparison', () => {
  it('scores sessions with reverse keys and min_answered, averages per participant, then per condition', () => {
    const m = buildReportModel(data({ A: 'matched', B: 'matched', C: 'random', D: 'random' }, [
      ['A', 'a1', [5, 5, 5, 1]], // se_distant 1 → 5: score 5
      ['A', 'a2', [3, 3, 3, 3]], // 3
      ['A', 'a3', [1, 1, null, null]], // two answered: no score
      ['B', 'b1', [4, 4, 4, 2]], // 4
      ['C', 'c1', [2, 2, 2, 4]], // 2
      ['D', 'd1', [3, 2, null, 3]], // (3 + 2 + 3) / 3
    ]), loaded);
    const e = m.empathy.data;
    expect(m.empathy.empty).toBeNull();
    expect(e.participants.map((p) => [p.participantId, p.mean, p.sessions])).toEqual([['A', 4, 2], ['B', 4, 1], ['C', 2, 1], ['D', 8 / 3, 1]]);
    expect(e.conditions).toEqual([{ condition: 'matched', participants: 2, mean: 4 }, { condition: 'random', participants: 2, mean: (2 + 8 / 3) / 2 }]);
    expect(e.differences).toHaveLength(1);
    expect(e.differences[0]).toMatchObject({ label: 'matched − random', diff: 4 - (2 + 8 / 3) / 2 });
    expect(m.meta.warnings).toEqual([]);
  });

  it('says why there is no interval with one participant in a condition, and no chart without any score', () => {
    const one = buildReportModel(data({ A: 'matched', B: 'matched', C: 'random' }, [['A', 'a', [4, 4, 4, 2]], ['B', 'b', [5, 5, 5, 1]], ['C', 'c', [2, 2, 2, 4]]]), loaded);
    expect(one.empathy.data.differences[0]).toMatchObject({ low: null, high: null, noInterval: 'needs at least 2 participants in each condition' });
    const none = buildReportModel(data({ A: 'matched' }, [['A', 'a', [null, null, null, null]]]), loaded);
    expect(none.empathy.empty).toMatch(/^No data: no session has a story_empathy score \(1 session\(s\) asked it; a score needs 3 answered item\(s\)\)\.$/);
  });

  it('warns when the file was enrolled under another protocol than the one scoring it', () => {
    const m = buildReportModel(data({ A: 'matched' }, [], 'sha256:0000'), loaded);
    expect(m.meta.warnings.join(' ')).toMatch(/different protocol file \(empathic-stories-home; hash sha256:0000\).*pass the study's own file with --protocol/);
  });
});
