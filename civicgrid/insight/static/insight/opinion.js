// The opinion page's two charts (insight/opinion.html): the week's top terms as bars and the
// negative share by week as a line. The figures come from JSON data islands (no inline script
// may run under the site's Content-Security-Policy); the lists beside them carry the same data.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  var data = JSON.parse(document.getElementById("opinion-chart-data").textContent);
  var labels = JSON.parse(document.getElementById("opinion-chart-labels").textContent);
  var charts = [];

  var termsBox = document.getElementById("opinion-terms-chart");
  if (termsBox && data.terms.length) {
    var terms = echarts.init(termsBox);
    terms.setOption({
      grid: { left: 8, right: 24, top: 8, bottom: 32, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", name: labels.terms, nameLocation: "middle", nameGap: 24, minInterval: 1 },
      yAxis: { type: "category", data: data.terms.map(function (t) { return t[0]; }) },
      series: [{ type: "bar", data: data.terms.map(function (t) { return t[1]; }), itemStyle: { color: "#0b5cad" } }],
    });
    charts.push(terms);
  } else if (termsBox) {
    termsBox.hidden = true;
  }

  var trendBox = document.getElementById("opinion-trend-chart");
  if (trendBox) {
    var trend = echarts.init(trendBox);
    trend.setOption({
      grid: { left: 8, right: 8, top: 16, bottom: 40, containLabel: true },
      legend: { bottom: 0, data: [labels.share, labels.texts] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.map(function (p) { return p[0]; }) },
      yAxis: [
        { type: "value", min: 0, axisLabel: { formatter: "{value}%" } },
        { type: "value", min: 0, splitLine: { show: false } },
      ],
      series: [
        {
          name: labels.share, type: "line", connectNulls: false, symbolSize: 4,
          data: data.trend.map(function (p) { return p[1]; }), itemStyle: { color: "#a61b1b" },
        },
        {
          name: labels.texts, type: "bar", yAxisIndex: 1, barMaxWidth: 8,
          data: data.trend.map(function (p) { return p[2]; }), itemStyle: { color: "#c9d6e3" },
        },
      ],
    });
    charts.push(trend);
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
