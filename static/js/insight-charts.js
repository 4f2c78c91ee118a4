// Draws every chart on an insight page from the JSON the server embedded with json_script.
// Each <div class="chart" data-chart="ID"> reads <script id="ID" type="application/json">:
// {kind: "bar"|"pie"|"line", title, stacked, categories: [...],
//  series: [{name, format: "money"|"count"|"ratio", data: [...]}], reference: {label, value}}.
// The table beside each chart holds the same figures, so nothing is lost without JavaScript.
(function () {
  "use strict";

  var lang = (document.documentElement.lang || "en").toLowerCase();
  var zh = lang.indexOf("zh") === 0;
  var numberLocale = zh ? "zh-CN" : "en";

  function formatter(kind) {
    if (kind === "ratio") {
      var pct = new Intl.NumberFormat(numberLocale, { style: "percent", maximumFractionDigits: 2 });
      return function (v) { return v === null || v === undefined ? "" : pct.format(v); };
    }
    var digits = kind === "money" ? 2 : 0;
    var num = new Intl.NumberFormat(numberLocale, { maximumFractionDigits: digits });
    return function (v) { return v === null || v === undefined ? "" : num.format(v); };
  }

  // Axis labels on a phone: 1.2M / 120万 rather than 1,200,000.
  var compact = new Intl.NumberFormat(numberLocale, { notation: "compact", maximumFractionDigits: 1 });

  function option(spec, narrow) {
    var first = spec.series[0] || { format: "count" };
    var fmt = formatter(first.format);
    var base = {
      animation: false,
      aria: { enabled: true },
      legend: { type: "scroll", top: 0, left: 0, right: 0 },
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", confine: true,
                 valueFormatter: fmt },
    };
    if (spec.kind === "graph") {
      // A relations network: the legend names the kinds of relationship; the enterprise the
      // page is about sits at the centre, larger.
      base.legend.data = spec.categories;
      base.tooltip = { trigger: "item", confine: true };
      base.series = [{
        type: "graph", layout: "force", roam: false, top: 40, draggable: false,
        force: { repulsion: narrow ? 120 : 200, edgeLength: narrow ? 60 : 90 },
        categories: spec.categories.map(function (c) { return { name: c }; }),
        label: { show: true, position: "right", width: narrow ? 80 : 140, overflow: "truncate" },
        edgeSymbol: ["none", "arrow"],
        data: spec.nodes.map(function (n) {
          var node = { name: n.name, symbolSize: n.centre ? 26 : 14 };
          if (n.category !== null) { node.category = n.category; }
          return node;
        }),
        links: spec.links.map(function (l) {
          return { source: l.source, target: l.target, value: l.label };
        }),
      }];
      return base;
    }
    if (spec.kind === "pie") {
      base.legend.data = spec.categories;
      base.series = [{
        type: "pie", name: first.name, radius: narrow ? ["30%", "58%"] : ["35%", "65%"],
        top: 40, label: { show: !narrow, formatter: "{b}: {d}%" },
        data: spec.categories.map(function (c, i) { return { name: c, value: first.data[i] }; }),
      }];
      return base;
    }
    base.grid = { left: 8, right: 16, top: 48, bottom: 8, containLabel: true };
    base.xAxis = { type: "category", data: spec.categories,
                   axisLabel: { interval: 0, rotate: narrow && spec.categories.length > 3 ? 40 : 0,
                                width: narrow ? 70 : 120, overflow: "truncate" } };
    base.yAxis = { type: "value", axisLabel: {
      formatter: first.format === "ratio" ? fmt : function (v) { return compact.format(v); } } };
    base.series = spec.series.map(function (s) {
      var series = { type: spec.kind === "line" ? "line" : "bar", name: s.name, data: s.data,
                     connectNulls: false };
      if (spec.stacked) { series.stack = "total"; }
      return series;
    });
    if (spec.reference && base.series.length) {
      base.series[0].markLine = {
        symbol: "none", label: { formatter: spec.reference.label + " " + fmt(spec.reference.value),
                                 position: "insideEndTop" },
        lineStyle: { type: "dashed", color: "#b42318" },
        data: [{ yAxis: spec.reference.value }],
      };
    }
    return base;
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || !window.echarts) { return; }
    var spec = JSON.parse(source.textContent);
    if (!spec.categories.length) { return; }
    var chart = window.echarts.init(el, null, { renderer: "svg", locale: zh ? "ZH" : "EN" });
    var narrow = el.clientWidth < 480;
    chart.setOption(option(spec, narrow));
    el.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () {
      var nowNarrow = el.clientWidth < 480;
      if (nowNarrow !== narrow) { narrow = nowNarrow; chart.setOption(option(spec, narrow), true); }
      chart.resize();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-chart]"), draw);
  });
})();
