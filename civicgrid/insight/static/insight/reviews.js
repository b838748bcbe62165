// The review page's charts (insight/review_detail.html): the daily (or monthly) trend, the most
// reported classes and the streets' scores. The figures come from a JSON data island (the site's
// Content-Security-Policy allows no inline script); the tables beside them hold the same numbers.
// SVG rendering, so the charts print sharply.
(function () {
  "use strict";
  var print = document.getElementById("review-print");
  if (print) print.addEventListener("click", function () { window.print(); });
  if (typeof echarts === "undefined") return;
  var data = JSON.parse(document.getElementById("review-chart-data").textContent);
  var charts = [];
  function draw(id, option) {
    var box = document.getElementById(id);
    if (!box) return;
    var chart = echarts.init(box, null, { renderer: "svg" });
    // No animation: a review is read and printed, and a chart caught mid-animation prints half drawn.
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
  }
  if (data.trend) {
    draw("review-trend-chart", {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [data.labels.cases, data.labels.closed] },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.trend.x },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: data.labels.cases, type: "line", data: data.trend.cases },
        { name: data.labels.closed, type: "line", data: data.trend.closed },
      ],
    });
  }
  if (data.classes && data.classes.names.length) {
    draw("review-classes-chart", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.classes.names },
      series: [{ type: "bar", data: data.classes.values, itemStyle: { color: "#0b5cad" } }],
    });
  }
  if (data.scores && data.scores.names.length) {
    var low = Math.max(0, Math.floor(Math.min.apply(null, data.scores.values) / 10) * 10 - 10);
    draw("review-scores-chart", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.scores.names, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", min: low, max: 100 },
      series: [{ type: "bar", data: data.scores.values, itemStyle: { color: "#2f6fae" }, label: { show: true, position: "top" } }],
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
