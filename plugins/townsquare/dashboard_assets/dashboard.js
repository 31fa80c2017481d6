/* Townsquare executive dashboard: builds the charts from the embedded data with plotly.js
 * (inlined in the page) and redraws them when a filter changes. Loads nothing.
 * The KPI arithmetic mirrors townsquare.dashboard.summarize() and format_kpis(). */
(function () {
  'use strict';

  const DATA = JSON.parse(document.getElementById('townsquare-data').textContent);
  const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const DASH = '–';
  const CHANNEL_LABELS = {
    all: 'All channels', blog: 'Blog', forum: 'Forum', mailing_list: 'Mailing list',
    repository: 'Repository', not_in_community: 'Not in community',
  };
  const COLORS = {
    blog: '#4e79a7', forum: '#f28e2b', mailing_list: '#59a14f', repository: '#b07aa1',
    not_in_community: '#9aa5b1', all: '#34495e',
  };
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948'];
  const ITEM_LABELS = {
    forum_topic: 'Forum topic', mailing_list_thread: 'Mailing-list thread', issue: 'Issue',
    pull_request: 'Pull request', blog_comment: 'Blog comment',
  };
  // hours -> label, for the log axis of response times: sparse over a wide span, else dense
  const DURATION_TICKS = [
    [0.25, '15 min'], [1, '1 h'], [4, '4 h'], [24, '1 day'], [168, '1 week'], [720, '30 days'], [8760, '1 year'],
  ];
  const DURATION_TICKS_DENSE = [
    [0.1, '6 min'], [0.25, '15 min'], [0.5, '30 min'], [1, '1 h'], [2, '2 h'], [4, '4 h'], [8, '8 h'],
    [24, '1 day'], [48, '2 days'], [96, '4 days'], [168, '1 week'], [336, '2 weeks'], [720, '30 days'],
    [2160, '90 days'], [8760, '1 year'],
  ];
  function durationAxis(values) {
    const ys = values.filter((y) => y !== null && y > 0);
    const wide = ys.length && Math.log10(Math.max(...ys) / Math.min(...ys)) > 1.5;
    const ticks = wide ? DURATION_TICKS : DURATION_TICKS_DENSE;
    return {
      type: 'log', rangemode: 'normal', tickmode: 'array',
      tickvals: ticks.map((t) => t[0]), ticktext: ticks.map((t) => t[1]),
    };
  }

  const CONFIG = {
    displaylogo: false,
    responsive: true,
    displayModeBar: 'hover',
    modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d', 'toggleSpikelines'],
  };

  // ------------------------------------------------------------------ data

  const T = {};
  for (const [name, ds] of Object.entries(DATA.datasets)) {
    T[name] = ds.rows.map((row) => {
      const rec = {};
      ds.columns.forEach((col, i) => { rec[col] = row[i]; });
      return rec;
    });
  }

  const ui = {
    from: document.getElementById('filter-from'),
    to: document.getElementById('filter-to'),
    channel: document.getElementById('filter-channel'),
    reset: document.getElementById('filter-reset'),
    range: document.getElementById('range-text'),
  };
  const state = { from: ui.from.value, to: ui.to.value, channel: ui.channel.value };

  const view = { responseStat: 'median' }; // chart-local choices, kept across redraws
  const inRange = (m) => m >= state.from && m <= state.to;
  const rangeMonths = () => DATA.months.filter(inRange);
  const bySelected = (rows) => rows.filter((r) => inRange(r.month) && r.acquisition_channel === state.channel);

  // ------------------------------------------------------------------ formatting

  function monthLabel(m) {
    const [y, mo] = m.split('-');
    return MONTH_NAMES[Number(mo) - 1] + ' ' + y;
  }
  function fmtInt(n) {
    if (n === null || n === undefined) return DASH;
    return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }
  const fmtFixed = (x, digits) => (x === null ? DASH : x.toFixed(digits));
  const fmtPct = (r) => (r === null ? DASH : (r * 100).toFixed(1) + '%');
  function fmtMoney(amount, currency) {
    return (currency + ' ' + fmtInt(Math.round(amount))).trim();
  }
  function sum(rows, key) {
    let total = 0;
    for (const r of rows) total += r[key] || 0;
    return total;
  }
  const ratio = (a, b) => (b ? a / b : null);

  // ------------------------------------------------------------------ KPIs

  function summarize() {
    const contributors = bySelected(T.contributors);
    const last = contributors.filter((r) => r.month === state.to);
    const funnelRows = bySelected(T.community_funnel);
    const money = bySelected(T.monetization);
    const revenue = T.revenue.filter((r) => state.channel === 'all' || r.acquisition_channel === state.channel);
    const customers = sum(money, 'customers');
    const rate = ratio(customers, sum(money, 'business_users'));
    const benchmark = DATA.meta.benchmark_rate;
    return {
      active_contributors: sum(last, 'active_contributors'),
      new_contributors: sum(contributors, 'new_contributors'),
      acquired: sum(funnelRows, 'acquired'),
      contributors: sum(funnelRows, 'contributors'),
      contributor_conversion: ratio(sum(funnelRows, 'contributors'), sum(funnelRows, 'acquired')),
      customers: customers,
      business_user_to_customer_rate: rate,
      benchmark_rate: benchmark,
      rate_vs_benchmark: rate === null ? null : ratio(rate, benchmark),
      lifetime_revenue: sum(revenue, 'lifetime_revenue'),
    };
  }

  function kpiTexts(s) {
    const benchmark = fmtPct(s.benchmark_rate);
    return {
      active_contributors: [fmtInt(s.active_contributors), state.to ? 'in ' + monthLabel(state.to) : ''],
      new_contributors: [fmtInt(s.new_contributors), 'in the range'],
      contributor_conversion: [
        fmtPct(s.contributor_conversion),
        fmtInt(s.contributors) + ' of ' + fmtInt(s.acquired) + ' acquired',
      ],
      customers: [fmtInt(s.customers), 'from cohorts in the range'],
      business_user_to_customer_rate: [
        fmtPct(s.business_user_to_customer_rate),
        s.rate_vs_benchmark === null
          ? 'benchmark ' + benchmark
          : fmtFixed(s.rate_vs_benchmark, 1) + '× the ' + benchmark + ' benchmark',
      ],
      lifetime_revenue: [fmtMoney(s.lifetime_revenue, DATA.meta.currency), 'all-time'],
    };
  }

  function updateKpis() {
    const texts = kpiTexts(summarize());
    for (const card of document.querySelectorAll('.kpi[data-kpi]')) {
      const t = texts[card.dataset.kpi];
      if (!t) continue;
      card.querySelector('.kpi-value').textContent = t[0];
      card.querySelector('.kpi-note').textContent = t[1];
    }
    ui.range.textContent = state.from
      ? monthLabel(state.from) + ' – ' + monthLabel(state.to) + ' · ' + CHANNEL_LABELS[state.channel]
      : 'no months';
  }

  // ------------------------------------------------------------------ chart helpers

  function merge(base, extra) {
    const out = Object.assign({}, base);
    for (const [k, v] of Object.entries(extra || {})) {
      const isObj = v && typeof v === 'object' && !Array.isArray(v);
      out[k] = isObj && base[k] && typeof base[k] === 'object' ? merge(base[k], v) : v;
    }
    return out;
  }

  const AXIS = {
    gridcolor: '#edf0f4', linecolor: '#c9d1db', zerolinecolor: '#c9d1db',
    tickfont: { size: 12 }, automargin: true,
  };
  const BASE_LAYOUT = {
    font: { family: FONT, size: 12, color: '#1d2733' },
    paper_bgcolor: '#ffffff', plot_bgcolor: '#ffffff',
    margin: { l: 56, r: 16, t: 34, b: 40, pad: 2 },
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', font: { size: 12 } },
    hoverlabel: { font: { family: FONT, size: 12 } },
    hovermode: 'x unified',
    xaxis: Object.assign({}, AXIS, { type: 'category' }),
    yaxis: Object.assign({ rangemode: 'tozero' }, AXIS),
  };

  /** A category axis of months: at most ~14 labels, the year under the first and each January. */
  function monthAxis(months) {
    const labels = months.map(monthLabel);
    const step = Math.max(1, Math.ceil(months.length / 14));
    const tickvals = [], ticktext = [];
    let shownYear = null;
    months.forEach((m, i) => {
      if (i % step) return;
      const [y, mo] = m.split('-');
      tickvals.push(labels[i]);
      ticktext.push(MONTH_NAMES[Number(mo) - 1] + (y !== shownYear ? '<br>' + y : ''));
      shownYear = y;
    });
    return {
      type: 'category', categoryorder: 'array', categoryarray: labels,
      tickmode: 'array', tickvals: tickvals, ticktext: ticktext, tickangle: 0,
    };
  }

  /** y values of rows keyed by month over the months of the range (null where no row). */
  function series(months, rows, key) {
    const index = new Map(rows.map((r) => [r.month, r[key]]));
    return months.map((m) => (index.has(m) ? index.get(m) : null));
  }

  const channelsShown = () => (state.channel === 'all' ? DATA.channels : [state.channel]);

  // ------------------------------------------------------------------ charts
  // Each builder returns {traces, layout} or null when the selection has no rows.

  const BUILDERS = {
    contributors_active() {
      const months = rangeMonths();
      const rows = T.contributors.filter((r) => inRange(r.month) && channelsShown().includes(r.acquisition_channel));
      if (!rows.length) return null;
      const x = months.map(monthLabel);
      const traces = channelsShown().map((ch) => ({
        type: 'bar', name: CHANNEL_LABELS[ch], x: x, marker: { color: COLORS[ch] },
        y: series(months, rows.filter((r) => r.acquisition_channel === ch), 'active_contributors'),
        hovertemplate: '%{y}<extra>' + CHANNEL_LABELS[ch] + '</extra>',
      }));
      return {
        traces,
        layout: { barmode: 'stack', showlegend: true, xaxis: monthAxis(months), yaxis: { title: { text: 'people' } } },
      };
    },

    contributors_new() {
      const months = rangeMonths();
      const rows = bySelected(T.contributors);
      if (!rows.length) return null;
      const x = months.map(monthLabel);
      const traces = [
        { key: 'new_contributors', name: 'New', color: '#2f8f5b' },
        { key: 'returning_contributors', name: 'Returning', color: '#9cc3e6' },
      ].map((s) => ({
        type: 'bar', name: s.name, x: x, y: series(months, rows, s.key), marker: { color: s.color },
        hovertemplate: '%{y}<extra>' + s.name + '</extra>',
      }));
      return { traces, layout: { barmode: 'stack', xaxis: monthAxis(months), yaxis: { title: { text: 'people' } } } };
    },

    community_funnel() {
      const rows = bySelected(T.community_funnel);
      if (!rows.length) return null;
      const stages = [['acquired', 'Acquired'], ['engaged', 'Engaged'], ['contributors', 'Contributors'], ['core', 'Core']];
      return funnelFigure(stages.map((s) => s[1]), stages.map((s) => sum(rows, s[0])), '#4e79a7');
    },

    funnel_rates() {
      const months = rangeMonths();
      const rows = bySelected(T.community_funnel);
      if (!rows.length) return null;
      const rates = [
        ['engaged_rate', 'Engaged / acquired'], ['contributor_rate', 'Contributors / engaged'],
        ['core_rate', 'Core / contributors'], ['acquired_to_contributor_rate', 'Contributors / acquired'],
      ];
      const traces = rates.map(([key, name], i) => ({
        type: 'scatter', mode: 'lines+markers', name: name, x: months.map(monthLabel),
        y: series(months, rows, key), line: { color: PALETTE[i], width: 2 }, marker: { size: 6 },
        hovertemplate: '%{y:.0%}<extra>' + name + '</extra>',
      }));
      return {
        traces,
        layout: { xaxis: monthAxis(months), yaxis: { tickformat: '.0%', range: [0, 1.05], rangemode: 'normal' } },
      };
    },

    cohort_retention() {
      const rows = T.cohort_retention.filter((r) => inRange(r.cohort_month) && r.activity_month <= state.to);
      if (!rows.length) return null;
      const cohorts = [...new Set(rows.map((r) => r.cohort_month))].sort();
      const width = Math.max(...rows.map((r) => r.months_since_first)) + 1;
      const offsets = Array.from({ length: width }, (_, i) => i);
      const z = cohorts.map(() => offsets.map(() => null));
      const custom = cohorts.map(() => offsets.map(() => [0, 0]));
      for (const r of rows) {
        const i = cohorts.indexOf(r.cohort_month);
        z[i][r.months_since_first] = r.retention_rate;
        custom[i][r.months_since_first] = [r.active_people, r.cohort_size];
      }
      const y = cohorts.map(monthLabel);
      return {
        traces: [{
          type: 'heatmap', x: offsets, y: y, z: z, customdata: custom, zmin: 0, zmax: 1,
          colorscale: [[0, '#f3f7fc'], [0.35, '#a9c8e8'], [0.7, '#4f86c0'], [1, '#1f4e8c']],
          texttemplate: '%{z:.0%}', textfont: { size: 11 }, xgap: 1, ygap: 1, hoverongaps: false,
          colorbar: { tickformat: '.0%', thickness: 12, len: 0.9 },
          hovertemplate: 'Cohort %{y}, month %{x}: %{z:.0%} (%{customdata[0]} of %{customdata[1]})<extra></extra>',
        }],
        layout: {
          hovermode: 'closest',
          margin: { t: 10 },
          xaxis: { type: 'linear', title: { text: 'months since first activity' }, dtick: 1, gridcolor: 'rgba(0,0,0,0)' },
          yaxis: { type: 'category', autorange: 'reversed', gridcolor: 'rgba(0,0,0,0)', rangemode: 'normal' },
        },
      };
    },

    response_times() {
      const months = rangeMonths();
      const rows = T.response_times.filter((r) => inRange(r.month) && (state.channel === 'all' || r.channel === state.channel));
      const [key, label, dash] = view.responseStat === 'p90'
        ? ['p90_hours_to_first_response', '90th percentile', 'dot']
        : ['median_hours_to_first_response', 'median', 'solid'];
      if (!rows.some((r) => r[key] !== null)) return null;
      const kinds = [...new Set(rows.map((r) => r.item_kind))].sort();
      const traces = kinds.map((kind, i) => {
        const own = rows.filter((r) => r.item_kind === kind);
        const byMonth = new Map(own.map((r) => [r.month, r]));
        const name = ITEM_LABELS[kind] || kind;
        return {
          type: 'scatter', mode: 'lines+markers', name: name, x: months.map(monthLabel), y: series(months, own, key),
          line: { color: PALETTE[i % PALETTE.length], width: 2, dash: dash }, marker: { size: 6 },
          customdata: months.map((m) => (byMonth.has(m) ? [byMonth.get(m).responded_items, byMonth.get(m).items] : [0, 0])),
          hovertemplate: '%{y:.1f} h ' + label + ' (%{customdata[0]} of %{customdata[1]} answered)<extra>' + name + '</extra>',
        };
      });
      return {
        traces,
        layout: {
          hovermode: 'closest', showlegend: true, xaxis: monthAxis(months),
          yaxis: durationAxis(traces.flatMap((t) => t.y)),
          legend: { orientation: 'v', x: 1.01, xanchor: 'left', y: 1, yanchor: 'top' },
        },
      };
    },

    health_factors() {
      const months = rangeMonths();
      const rows = T.health.filter((r) => inRange(r.month));
      if (!rows.length) return null;
      const x = months.map(monthLabel);
      // the factors go on the overlaying axis (drawn on top, shown on the left)
      return {
        traces: [
          {
            type: 'bar', name: 'Inactive contributors', x: x, y: series(months, rows, 'inactive_contributors'),
            marker: { color: '#e3e8ee' }, hovertemplate: '%{y}<extra>Inactive contributors</extra>',
          },
          {
            type: 'scatter', mode: 'lines+markers', name: 'Contributor absence factor', x: x, yaxis: 'y2',
            y: series(months, rows, 'contributor_absence_factor'), line: { color: '#e15759', width: 2.5 },
            marker: { size: 7 }, hovertemplate: '%{y} people<extra>Absence factor</extra>',
          },
          {
            type: 'scatter', mode: 'lines+markers', name: 'Elephant factor', x: x, yaxis: 'y2',
            y: series(months, rows, 'elephant_factor'), line: { color: '#4e79a7', width: 2.5 },
            marker: { size: 7, symbol: 'diamond' }, hovertemplate: '%{y} organizations<extra>Elephant factor</extra>',
          },
        ],
        layout: {
          xaxis: monthAxis(months),
          yaxis: {
            side: 'right', showgrid: false, zeroline: false, rangemode: 'tozero', nticks: 5, tickformat: 'd',
            title: { text: 'inactive people', font: { color: '#7b8794' } }, tickfont: { color: '#7b8794' },
          },
          yaxis2: {
            overlaying: 'y', side: 'left', rangemode: 'tozero', automargin: true, tickformat: 'd',
            gridcolor: '#edf0f4', linecolor: '#c9d1db', title: { text: 'factor' },
          },
          margin: { r: 56 },
        },
      };
    },

    conversation_focus() {
      const months = rangeMonths();
      const rows = T.conversation_focus.filter((r) => inRange(r.month) && (state.channel === 'all' || r.channel === state.channel));
      if (!rows.length) return null;
      const channels = DATA.channels.filter((ch) => rows.some((r) => r.channel === ch));
      const traces = channels.map((ch) => {
        const own = rows.filter((r) => r.channel === ch);
        const byMonth = new Map(own.map((r) => [r.month, r]));
        return {
          type: 'scatter', mode: 'lines+markers', name: CHANNEL_LABELS[ch], x: months.map(monthLabel),
          y: series(months, own, 'code_share'), line: { color: COLORS[ch], width: 2 }, marker: { size: 6 },
          customdata: months.map((m) => (byMonth.has(m) ? [byMonth.get(m).code_messages, byMonth.get(m).messages] : [0, 0])),
          hovertemplate: '%{y:.0%} (%{customdata[0]} of %{customdata[1]})<extra>' + CHANNEL_LABELS[ch] + '</extra>',
        };
      });
      return {
        traces,
        layout: { showlegend: true, xaxis: monthAxis(months), yaxis: { tickformat: '.0%', rangemode: 'tozero' } },
      };
    },

    inbound_reach() {
      const sites = topSites();
      if (!sites.length) return null;
      const names = sites.map((s) => s[0]);
      return {
        traces: [{
          type: 'bar', orientation: 'h', x: sites.map((s) => s[1]), y: names, marker: { color: '#4e79a7' },
          text: sites.map((s) => String(s[1])), textposition: 'outside', cliponaxis: false,
          hovertemplate: '%{y}: %{x} inbound links<extra></extra>',
        }],
        layout: {
          hovermode: 'closest', showlegend: false, margin: { l: 8, t: 10, r: 30 },
          xaxis: { type: 'linear', title: { text: 'inbound links' }, rangemode: 'tozero' },
          yaxis: { type: 'category', autorange: 'reversed', categoryorder: 'array', categoryarray: names },
        },
      };
    },

    monetization_funnel() {
      const rows = bySelected(T.monetization);
      if (!rows.length) return null;
      const stages = [
        ['organizations', 'Organizations'], ['engaged_organizations', 'Engaged'],
        ['organizations_with_intent', 'With intent'], ['paying_customers', 'Paying customers'],
      ];
      const fig = funnelFigure(stages.map((s) => s[1]), stages.map((s) => sum(rows, s[0])), '#59a14f');
      fig.layout.margin = { l: 8, t: 10, b: 30 };
      fig.layout.annotations = [{
        xref: 'paper', yref: 'paper', x: 1, y: -0.02, xanchor: 'right', yanchor: 'top', showarrow: false,
        align: 'right', font: { size: 12, color: '#5b6776' },
        text: fmtInt(sum(rows, 'business_users')) + ' business users → ' + fmtInt(sum(rows, 'customers')) + ' customers',
      }];
      return fig;
    },

    benchmark() {
      const months = rangeMonths();
      const rows = bySelected(T.monetization);
      if (!rows.length) return null;
      const x = months.map(monthLabel);
      const byMonth = new Map(rows.map((r) => [r.month, r]));
      const bench = DATA.meta.benchmark_rate;
      return {
        traces: [
          {
            type: 'bar', name: 'Customers / business users', x: x, marker: { color: '#59a14f' },
            y: series(months, rows, 'business_user_to_customer_rate'),
            customdata: months.map((m) => (byMonth.has(m) ? [byMonth.get(m).customers, byMonth.get(m).business_users] : [0, 0])),
            hovertemplate: '%{y:.1%} (%{customdata[0]} of %{customdata[1]})<extra>Cohort rate</extra>',
          },
          {
            type: 'scatter', mode: 'lines', name: 'Benchmark ' + fmtPct(bench), x: x, y: months.map(() => bench),
            line: { color: '#e15759', width: 2, dash: 'dash' }, hovertemplate: '%{y:.1%}<extra>Benchmark</extra>',
          },
        ],
        layout: { xaxis: monthAxis(months), yaxis: { tickformat: '.0%', rangemode: 'tozero' } },
      };
    },

    revenue_by_channel() {
      const rows = T.revenue;
      if (!rows.length) return null;
      const cur = DATA.meta.currency;
      const colors = rows.map((r) => (state.channel === 'all' || r.acquisition_channel === state.channel
        ? COLORS[r.acquisition_channel] || '#4e79a7' : '#dde3ea'));
      return {
        traces: [{
          type: 'bar', x: rows.map((r) => CHANNEL_LABELS[r.acquisition_channel] || r.acquisition_channel),
          y: rows.map((r) => r.lifetime_revenue), marker: { color: colors },
          text: rows.map((r) => fmtMoney(r.lifetime_revenue, cur)), textposition: 'outside', cliponaxis: false,
          customdata: rows.map((r) => [r.customers, r.revenue_share === null ? 0 : r.revenue_share]),
          hovertemplate: '%{text}: %{customdata[0]} customers, %{customdata[1]:.0%} of revenue<extra></extra>',
        }],
        layout: {
          hovermode: 'closest', showlegend: false, margin: { t: 24 },
          yaxis: { title: { text: cur }, tickformat: ',.0f' },
        },
      };
    },
  };

  function funnelFigure(labels, values, color) {
    return {
      traces: [{
        type: 'funnel', y: labels, x: values, marker: { color: color },
        textinfo: 'value+percent previous', textposition: 'inside', insidetextanchor: 'middle',
        textfont: { size: 13 }, connector: { fillcolor: '#eef2f6' },
        hovertemplate: '%{y}: %{x}<extra></extra>',
      }],
      layout: {
        hovermode: 'closest', showlegend: false, margin: { l: 8, t: 10 },
        xaxis: { type: 'linear', showticklabels: false, showgrid: false, zeroline: false },
        yaxis: { type: 'category', rangemode: 'normal' },
      },
    };
  }

  function topSites() {
    const links = new Map();
    for (const r of T.inbound_reach) {
      if (!inRange(r.month)) continue;
      links.set(r.referring_domain, (links.get(r.referring_domain) || 0) + (r.inbound_links || 0));
    }
    return [...links.entries()]
      .filter((e) => e[1] > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, DATA.meta.top_sites);
  }

  // ------------------------------------------------------------------ rendering

  function renderChart(section) {
    const name = section.dataset.chart;
    if (name === 'top_leads') {
      section.classList.toggle('is-empty', !T.leads.length);
      return;
    }
    const build = BUILDERS[name];
    const plot = section.querySelector('.plot');
    if (!build || !plot) return;
    const fig = build();
    if (!fig) {
      section.classList.add('is-empty');
      Plotly.purge(plot);
      return;
    }
    section.classList.remove('is-empty');
    Plotly.react(plot, fig.traces, merge(BASE_LAYOUT, fig.layout), CONFIG);
  }

  function render() {
    updateKpis();
    document.querySelectorAll('section.chart[data-chart]').forEach(renderChart);
  }

  function onChange(event) {
    state.from = ui.from.value;
    state.to = ui.to.value;
    state.channel = ui.channel.value;
    if (state.from > state.to) {
      // keep the range valid: move the other end
      if (event && event.target === ui.to) state.from = ui.from.value = state.to;
      else state.to = ui.to.value = state.from;
    }
    render();
  }

  ui.from.addEventListener('change', onChange);
  ui.to.addEventListener('change', onChange);
  ui.channel.addEventListener('change', onChange);
  ui.reset.addEventListener('click', () => {
    ui.from.value = DATA.months[0] || '';
    ui.to.value = DATA.months[DATA.months.length - 1] || '';
    ui.channel.value = 'all';
    onChange();
  });
  document.getElementById('filters').addEventListener('submit', (e) => e.preventDefault());
  for (const button of document.querySelectorAll('#chart-response_times .toggle button')) {
    button.addEventListener('click', () => {
      view.responseStat = button.dataset.stat;
      for (const b of button.parentElement.children) b.setAttribute('aria-pressed', String(b === button));
      renderChart(document.getElementById('chart-response_times'));
    });
  }

  render();
})();
