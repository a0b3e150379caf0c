// c360 dashboard: draws the charts whose ECharts options the server put in the page, and the
// customer type-ahead. No framework; the pages work (minus charts) without it.
(function () {
  "use strict";

  function money(v) {
    return "$" + Number(v).toLocaleString("en-US", { maximumFractionDigits: 0 });
  }

  function drawCharts() {
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source || typeof echarts === "undefined") return;
      var option = JSON.parse(source.textContent);
      var axis = option.yAxis && option.yAxis.name;
      if (axis === "$") {
        option.yAxis.axisLabel = { formatter: money };
        option.tooltip = option.tooltip || {};
        option.tooltip.valueFormatter = money;
      }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
    document.body.setAttribute("data-charts", String(charts.length));
  }

  function typeAhead() {
    var input = document.getElementById("customer-search");
    var list = document.getElementById("customer-suggestions");
    if (!input || !list) return;
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        fetch("/api/customers/search?limit=10&q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            list.innerHTML = "";
            (data.results || []).forEach(function (c) {
              var opt = document.createElement("option");
              opt.value = c.customer_id;
              opt.label = [c.full_name, c.email, c.customer_segment].filter(Boolean).join(" · ");
              list.appendChild(opt);
            });
            list.setAttribute("data-count", String((data.results || []).length));
          });
      }, 150);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    typeAhead();
  });
})();
