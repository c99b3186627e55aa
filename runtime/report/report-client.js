// The page script of `hearth report` (inlined into the HTML, runs in the browser): draws each chart of
// the inlined model with Observable Plot. Plain browser JavaScript, not compiled; all numbers were
// computed by the report builder, this only lays them out.
/* global Plot, d3 */
(function () {
  'use strict';
  var model = JSON.parse(document.getElementById('hearth-report-data').textContent);
  var WIDTH = Math.min(1060, document.documentElement.clientWidth - 40);

  function mount(id, node) {
    var el = document.getElementById('plot-' + id);
    if (el) el.appendChild(node);
    return node;
  }

  // Tag each drawn element of a mark with a class from its datum (Plot binds each element to the index of its datum).
  function tag(node, markLabel, rows, classOf) {
    node.querySelectorAll('g[aria-label="' + markLabel + '"] > *').forEach(function (el) {
      var i = el.__data__;
      if (typeof i === 'number' && rows[i]) el.classList.add(classOf(rows[i]));
    });
  }

  // Study days run from 1; rows before the start (day 0 or less, e.g. provisioning) or after the last day are kept.
  var days = function (rows) { return d3.max(rows, function (r) { return r.studyDay; }) || 1; };
  var firstDay = function (rows) { return Math.min(1, d3.min(rows, function (r) { return r.studyDay; }) || 1); };
  var dayTicks = function (rows) { return d3.range(firstDay(rows), days(rows) + 1); };

  function adherence(c) {
    var cells = c.cells;
    var participants = Array.from(new Set(cells.map(function (r) { return r.participantId; }))).sort();
    var node = Plot.plot({
      width: WIDTH, height: 60 + participants.length * 22, marginLeft: 70, padding: 0.08,
      x: { type: 'band', label: 'study day', domain: dayTicks(cells), tickFormat: function (d) { return d % 5 === 0 || d === 1 ? d : ''; } },
      y: { label: 'participant', domain: participants },
      color: { domain: c.statuses, range: c.statuses.map(function (s) { return c.colours[s]; }), legend: true },
      marks: [
        Plot.cell(cells, {
          x: 'studyDay', y: 'participantId', fill: 'status',
          title: function (r) { return r.participantId + ', day ' + r.studyDay + ': ' + r.status + (r.planned > 1 ? ' (' + r.planned + ' planned)' : ''); },
        }),
      ],
    });
    tag(node, 'cell', cells, function (r) { return 'status-' + r.status; });
    return node;
  }

  function durations(c) {
    var rows = c.sessions;
    return Plot.plot({
      width: WIDTH, height: 320,
      x: { label: 'study day', domain: [firstDay(rows) - 0.5, days(rows) + 0.5] },
      y: { label: 'minutes', grid: true, zero: true },
      color: { legend: true, label: 'participant' },
      symbol: { legend: true, domain: ['completed', 'interrupted'] },
      marks: [
        Plot.ruleY([0]),
        Plot.dot(rows, {
          x: 'studyDay', y: 'minutes', stroke: 'participantId', symbol: 'status',
          title: function (r) { return r.participantId + ', day ' + r.studyDay + ': ' + r.minutes.toFixed(1) + ' min (' + r.status + ')'; },
        }),
      ],
    });
  }

  // One panel per measure, one line and one dot per participant-day.
  function overTime(rows, panel, yDomain, yLabel) {
    return Plot.plot({
      width: WIDTH, height: 200 * new Set(rows.map(function (r) { return r[panel]; })).size + 40, marginRight: 70,
      x: { label: 'study day', domain: [firstDay(rows) - 0.5, days(rows) + 0.5] },
      y: { label: yLabel, domain: yDomain, grid: true },
      fy: { label: null },
      color: { legend: true, label: 'participant' },
      marks: [
        Plot.lineY(rows, { x: 'studyDay', y: 'value', fy: panel, stroke: 'participantId', strokeOpacity: 0.5 }),
        Plot.dot(rows, {
          x: 'studyDay', y: 'value', fy: panel, fill: 'participantId', r: 2.5,
          title: function (r) { return r.participantId + ', day ' + r.studyDay + ': ' + r[panel] + ' ' + (+r.value).toFixed(2); },
        }),
      ],
    });
  }

  function affect(c) {
    return overTime(c.rows, 'measure', [-1, 1], 'mean per day (−1 to 1)');
  }

  function mood(c) {
    var lo = d3.min(c.items, function (i) { return i.min; });
    var hi = d3.max(c.items, function (i) { return i.max; });
    var label = {};
    c.items.forEach(function (i) { label[i.code] = i.label; });
    var rows = c.rows.map(function (r) { return { participantId: r.participantId, studyDay: r.studyDay, item: label[r.item] || r.item, value: r.value }; });
    return overTime(rows, 'item', [lo, hi], 'rating (raw)');
  }

  function empathy(c) {
    var wrap = document.createElement('div');
    var conditions = c.conditions.map(function (x) { return x.condition; });
    var byCondition = Plot.plot({
      width: Math.min(WIDTH, 520), height: 320, marginLeft: 50,
      x: { label: 'condition', domain: conditions, padding: 0.4 },
      y: { label: 'mean ' + c.score + ' per participant (' + c.min + '–' + c.max + ')', domain: [c.min, c.max], grid: true },
      color: { domain: conditions, legend: true },
      marks: [
        Plot.dot(c.participants, {
          x: 'condition', y: 'mean', fill: 'condition', r: 4, fillOpacity: 0.7,
          title: function (r) { return r.participantId + ' (' + r.condition + '): ' + r.mean.toFixed(2) + ' over ' + r.sessions + ' session(s)'; },
        }),
        Plot.tickY(c.conditions, { x: 'condition', y: 'mean', stroke: 'black', strokeWidth: 2 }),
      ],
    });
    byCondition.classList.add('empathy-by-condition');
    wrap.appendChild(byCondition);
    var withCi = c.differences.filter(function (d) { return d.low !== null; });
    var extent = d3.extent(c.differences.flatMap(function (d) { return d.low === null ? [d.diff] : [d.low, d.high]; }).concat([0]));
    var pad = Math.max(0.1, (extent[1] - extent[0]) * 0.1);
    var diff = Plot.plot({
      width: Math.min(WIDTH, 520), height: 80 + 40 * c.differences.length, marginLeft: 120,
      x: { label: 'difference of means (95% CI)', domain: [extent[0] - pad, extent[1] + pad], grid: true },
      y: { label: null, domain: c.differences.map(function (d) { return d.label; }) },
      marks: [
        Plot.ruleX([0], { stroke: '#999' }),
        Plot.ruleY(withCi, { y: 'label', x1: 'low', x2: 'high', strokeWidth: 3, stroke: '#333' }),
        Plot.dot(c.differences, { x: 'diff', y: 'label', fill: 'black', r: 5 }),
        Plot.text(c.differences, {
          x: 'diff', y: 'label', dy: -14,
          text: function (d) { return d.diff.toFixed(2) + (d.low === null ? ' (no CI)' : ' [' + d.low.toFixed(2) + ', ' + d.high.toFixed(2) + ']'); },
        }),
      ],
    });
    diff.classList.add('empathy-difference');
    wrap.appendChild(diff);
    return wrap;
  }

  function safeguards(c) {
    var palette = ['#bdbdbd', '#e6550d', '#756bb1', '#3182bd', '#31a354', '#636363'];
    return Plot.plot({
      width: WIDTH, height: 300, marginLeft: 60,
      x: { type: 'band', label: 'study day', domain: dayTicks(c.days), tickFormat: function (d) { return d % 5 === 0 || d === 1 ? d : ''; } },
      y: { label: 'checks', grid: true },
      color: { domain: c.decisions, range: c.decisions.map(function (d, i) { return d === 'pass' ? palette[0] : palette[1 + ((i - 1) % 5)]; }), legend: true },
      marks: [
        Plot.barY(c.days, {
          x: 'studyDay', y: 'checks', fill: 'decision',
          title: function (r) { return 'day ' + r.studyDay + ': ' + r.checks + ' ' + r.decision; },
        }),
        Plot.ruleY([0]),
      ],
    });
  }

  function incidents(c) {
    var rows = c.rows.filter(function (r) { return r.studyDay !== null; });
    return Plot.plot({
      width: WIDTH, height: 80 + 40 * new Set(rows.map(function (r) { return r.kind; })).size, marginLeft: 110,
      x: { label: 'study day', domain: [0.5, Math.max(days(rows), days(model.adherence.data.cells)) + 0.5] },
      y: { label: 'kind' },
      color: { domain: ['serious', 'moderate', 'info'], range: ['#d73027', '#fdae61', '#74add1'], legend: true, label: 'severity' },
      marks: [
        Plot.dot(rows, {
          x: 'studyDay', y: 'kind', fill: 'severity', r: 6,
          title: function (r) { return r.incidentId + ' (' + (r.participantId || 'no participant') + ', day ' + r.studyDay + '): ' + r.kind + ', ' + r.severity; },
        }),
      ],
    });
  }

  function completeness(c) {
    var tables = c.tables.map(function (t) { return t.table; });
    return Plot.plot({
      width: WIDTH, height: 60 + tables.length * 22, marginLeft: 130,
      x: { type: 'band', label: 'study day', domain: dayTicks(c.cells), tickFormat: function (d) { return d % 5 === 0 || d === 1 ? d : ''; } },
      y: { label: 'table', domain: tables },
      color: { type: 'log', scheme: 'blues', legend: true, label: 'rows' },
      marks: [
        Plot.cell(c.cells, {
          x: 'studyDay', y: 'table', fill: 'rows', inset: 0.5,
          title: function (r) { return r.table + ', day ' + r.studyDay + ': ' + r.rows + ' rows'; },
        }),
      ],
    });
  }

  var draw = { adherence: adherence, durations: durations, affect: affect, mood: mood, empathy: empathy, safeguards: safeguards, incidents: incidents, completeness: completeness };
  Object.keys(draw).forEach(function (id) {
    if (model[id].empty !== null) return;
    var section = document.getElementById('chart-' + id);
    try {
      mount(id, draw[id](model[id].data));
      section.dataset.drawn = 'true';
    } catch (e) {
      // A chart that cannot be drawn says so in place; the other charts still draw.
      var p = document.createElement('p');
      p.className = 'no-data';
      p.textContent = 'This chart could not be drawn: ' + (e && e.message ? e.message : String(e));
      section.appendChild(p);
      section.dataset.drawn = 'false';
    }
  });
  document.body.dataset.ready = 'true';
})();
