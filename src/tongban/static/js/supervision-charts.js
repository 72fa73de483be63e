/* The supervision dashboard's weekly trend (ECharts from /static/vendor/echarts.min.js).
   Reads the figures the page embeds as JSON (#sv-trend-data); the same figures are in the
   table under the chart, which stays the accessible version. */
(function () {
  "use strict";
  function draw() {
    var box = document.getElementById("sv-trend-chart");
    var source = document.getElementById("sv-trend-data");
    if (!box || !source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var labels = data.labels || {};
    var keys = ["accepted", "completed", "overdue", "records"];
    var colors = { accepted: "#0b57d0", completed: "#1e6b34", overdue: "#b3261e", records: "#8a5a00" };
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      color: keys.map(function (k) { return colors[k]; }),
      tooltip: { trigger: "axis" },
      legend: { data: keys.map(function (k) { return labels[k] || k; }), top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.weeks, axisLabel: { formatter: function (v) { return v.slice(5); } } },
      yAxis: { type: "value", minInterval: 1 },
      series: keys.map(function (k) {
        return { name: labels[k] || k, type: "line", data: data[k], symbolSize: 6 };
      })
    });
    box.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
