// The loss explorer: pick losses of one plot variable, move their hyperparameters' sliders, and watch the value,
// gradient and second derivative redraw, with each point's pull on a one-parameter fit with outliers. Every number
// was computed by losskit when the site was built (_static/explorer/<loss>.js); uPlot draws them.
(function () {
  "use strict";
  window.LOSS_DATA = window.LOSS_DATA || {};
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  var index = window.LOSS_INDEX || [];
  var byName = {};
  index.forEach(function (entry) { byName[entry.name] = entry; });
  var root = document.getElementById("lx-explorer");
  var state = readState();
  var charts = [];

  function readState() {
    var hash = window.location.hash.replace(/^#/, ""), out = {losses: ["huber", "mse"], at: {}, autotest: false};
    hash.split("&").forEach(function (part) {
      var kv = part.split("="), key = decodeURIComponent(kv[0] || ""), value = decodeURIComponent(kv[1] || "");
      if (key === "losses") { out.losses = value.split(",").filter(function (n) { return byName[n]; }); }
      else if (key === "autotest") { out.autotest = true; }
      else if (key.indexOf(".") > 0) { out.at[key] = parseInt(value, 10); }
    });
    if (!out.losses.length) { out.losses = ["huber"]; }
    var variable = byName[out.losses[0]].variable;
    out.losses = out.losses.filter(function (n) { return byName[n].variable === variable; });
    return out;
  }

  function writeState() {
    var parts = ["losses=" + state.losses.join(",")];
    Object.keys(state.at).forEach(function (key) { parts.push(key + "=" + state.at[key]); });
    history.replaceState(null, "", "#" + parts.join("&"));
  }

  function load(names, then) {
    var missing = names.filter(function (n) { return !window.LOSS_DATA[n]; });
    if (!missing.length) { then(); return; }
    var left = missing.length;
    missing.forEach(function (name) {
      var script = document.createElement("script");
      script.src = root.getAttribute("data-base") + name + ".js";
      script.onload = function () { left -= 1; if (!left) { then(); } };
      document.head.appendChild(script);
    });
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // A loss's curves come from one hyperparameter's grid at a time: the slider moved last; the others stay at defaults.
  function defaultPosition(name, param) {
    var grid = window.LOSS_DATA[name].params[param], best = 0;
    grid.values.forEach(function (v, i) {
      if (Math.abs(v - grid["default"]) < Math.abs(grid.values[best] - grid["default"])) { best = i; }
    });
    return best;
  }

  function position(name, param) {
    var at = state.at[name + "." + param], size = window.LOSS_DATA[name].params[param].values.length;
    return at >= 0 && at < size ? at : defaultPosition(name, param);
  }

  function moved(name) {
    var params = window.LOSS_DATA[name].params;
    return Object.keys(params).filter(function (param) { return state.at[name + "." + param] !== undefined; })[0];
  }

  function curvesOf(name) {
    var param = moved(name), data = window.LOSS_DATA[name];
    return param === undefined ? data.base : data.params[param].curves[position(name, param)];
  }

  function pullsOf(name) {
    var param = moved(name), fit = window.LOSS_DATA[name].fit;
    return param === undefined ? fit.base : fit.params[param][position(name, param)];
  }

  function controls() {
    var box = root.querySelector(".lx-controls");
    box.innerHTML = "";
    var variable = byName[state.losses[0]].variable;
    var pick = element("select", {"class": "lx-variable", "aria-label": "plot variable"});
    Array.from(new Set(index.map(function (e) { return e.variable; }))).forEach(function (v) {
      var option = element("option", {value: v}, v);
      if (v === variable) { option.selected = true; }
      pick.appendChild(option);
    });
    pick.addEventListener("change", function () {
      state.losses = [index.filter(function (e) { return e.variable === pick.value; })[0].name];
      state.at = {};
      update();
    });
    box.appendChild(element("label", {}, "Losses of the "));
    box.appendChild(pick);
    var list = element("div", {"class": "lx-losses"});
    index.filter(function (e) { return e.variable === variable; }).forEach(function (entry) {
      var id = "lx-" + entry.name, item = element("label", {"for": id, "class": "lx-loss"});
      var checkbox = element("input", {type: "checkbox", id: id, value: entry.name});
      checkbox.checked = state.losses.indexOf(entry.name) >= 0;
      checkbox.addEventListener("change", function () {
        state.losses = index.filter(function (e) {
          var node = document.getElementById("lx-" + e.name);
          return node && node.checked;
        }).map(function (e) { return e.name; });
        if (!state.losses.length) { state.losses = [entry.name]; }
        update();
      });
      item.appendChild(checkbox);
      item.appendChild(document.createTextNode(" " + entry.name));
      list.appendChild(item);
    });
    box.appendChild(list);
    var sliders = element("div", {"class": "lx-sliders"});
    state.losses.forEach(function (name, k) {
      var data = window.LOSS_DATA[name];
      Object.keys(data.params).forEach(function (param) {
        var grid = data.params[param], at = position(name, param);
        var row = element("div", {"class": "lx-slider"});
        var input = element("input", {type: "range", min: "0", max: String(grid.values.length - 1), step: "1",
                                       value: String(at), "aria-label": name + " " + param,
                                       "data-key": name + "." + param});
        var shown = element("span", {"class": "lx-value"}, format(grid.values[at]));
        input.addEventListener("input", function () {
          Object.keys(data.params).forEach(function (other) {  // the loss's other sliders go back to their defaults
            if (other === param) { return; }
            delete state.at[name + "." + other];
            var slider = root.querySelector('input[data-key="' + name + "." + other + '"]');
            slider.value = String(defaultPosition(name, other));
            slider.nextSibling.textContent = format(data.params[other].values[slider.value]);
          });
          state.at[name + "." + param] = parseInt(input.value, 10);
          shown.textContent = format(grid.values[state.at[name + "." + param]]);
          draw();
        });
        var title = element("span", {"class": "lx-name"}, name + " " + param);
        title.style.color = COLORS[k % COLORS.length];
        row.appendChild(title);
        row.appendChild(input);
        row.appendChild(shown);
        sliders.appendChild(row);
      });
    });
    box.appendChild(sliders);
  }

  function format(v) { return Number(v).toPrecision(3).replace(/\.?0+$/, "").replace(/\.?0+e/, "e"); }

  function draw() {
    writeState();
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    var area = root.querySelector(".lx-charts");
    area.innerHTML = "";
    var first = window.LOSS_DATA[state.losses[0]];
    var width = Math.max(280, Math.floor((area.clientWidth || 900) / 3) - 12);
    [["value", "loss of one example"], ["gradient", "its derivative"], ["hessian", "its second derivative"]].forEach(
      function (panel) {
        var series = [{}], data = [first.x];
        state.losses.forEach(function (name, k) {
          var curves = curvesOf(name);
          if (!curves[panel[0]]) { return; }
          series.push({label: name, stroke: COLORS[k % COLORS.length], width: 2, spanGaps: false});
          data.push(curves[panel[0]]);
        });
        var holder = element("div", {"class": "lx-chart", "data-panel": panel[0]});
        area.appendChild(holder);
        charts.push(new uPlot({
          title: panel[1], width: width, height: 260, legend: {show: panel[0] === "value"},
          scales: {x: {time: false}}, series: series,
          axes: [{label: first.label}, {}],
        }, data, holder));
      });
    drawFit();
    setTimeout(digest, 50);  // uPlot paints on its next tick
  }

  function drawFit() {
    var area = root.querySelector(".lx-fit");
    area.innerHTML = "";
    var name = state.losses.filter(function (n) { return window.LOSS_DATA[n].fit; })[0];
    if (!name) {
      area.appendChild(element("p", {"class": "lx-note"}, "The fit panel shows losses of the residual."));
      return;
    }
    var fit = window.LOSS_DATA[name].fit, pulls = pullsOf(name);
    if (!pulls) { return; }
    var order = fit.points.map(function (_, i) { return i; });
    order.sort(function (a, b) { return fit.points[a] - fit.points[b]; });
    var xs = order.map(function (_, i) { return i + 1; });
    var inliers = order.map(function (i) { return fit.outliers[i] ? null : pulls.pull[i]; });
    var outliers = order.map(function (i) { return fit.outliers[i] ? pulls.pull[i] : null; });
    var sorted = fit.points.slice().sort(function (a, b) { return a - b; });
    var mean = fit.points.reduce(function (s, v) { return s + v; }, 0) / fit.points.length;
    var median = (sorted[9] + sorted[10]) / 2;
    area.appendChild(element("p", {"class": "lx-note"},
      name + ": the best constant is " + format(pulls.theta) + " (the mean is " + format(mean) + ", the median " +
      format(median) + "). Each bar is a point's pull on it, minus its gradient there; the three outliers in red."));
    var holder = element("div", {"class": "lx-chart", "data-panel": "fit"});
    area.appendChild(holder);
    var bars = uPlot.paths.bars({size: [0.7, 40]});
    charts.push(new uPlot({
      title: "each point's pull on the fit", width: Math.max(320, (area.clientWidth || 900) - 12), height: 220,
      scales: {x: {time: false, range: [0.4, fit.points.length + 0.6]}}, legend: {show: true},
      series: [{}, {label: "points", fill: "#1f77b4aa", stroke: "#1f77b4", paths: bars, points: {show: false}},
               {label: "outliers", fill: "#d62728aa", stroke: "#d62728", paths: bars, points: {show: false}}],
      axes: [{label: "the 20 points, from the smallest to the largest"}, {}],
    }, [xs, inliers, outliers], holder));
  }

  // For the tests: a digest of the drawn canvases on <html data-digest>, and the number of drawn series.
  function digest() {
    var canvases = root.querySelectorAll("canvas");
    var text = Array.prototype.map.call(canvases, function (c) { return c.toDataURL(); }).join("|");
    var h = 0;
    for (var i = 0; i < text.length; i += 7) { h = (h * 31 + text.charCodeAt(i)) | 0; }
    document.documentElement.setAttribute("data-digest", String(h >>> 0));
    document.documentElement.setAttribute("data-series", String(charts.length ? charts[0].series.length - 1 : 0));
  }

  function update() {
    load(state.losses, function () { controls(); draw(); });
  }

  load(state.losses, function () {
    controls();
    draw();
    var html = document.documentElement;
    if (!state.autotest) {
      setTimeout(function () { html.setAttribute("data-explorer", "ready"); }, 100);
      return;
    }
    setTimeout(function () {  // move the first slider to its end, as a reader would, and record both digests
      var slider = root.querySelector(".lx-slider input");
      html.setAttribute("data-digest-before", html.getAttribute("data-digest"));
      slider.value = slider.max;
      slider.dispatchEvent(new Event("input"));
      setTimeout(function () {
        html.setAttribute("data-digest-after", html.getAttribute("data-digest"));
        html.setAttribute("data-moved", slider.getAttribute("data-key") + "=" + slider.value);
        html.setAttribute("data-explorer", "ready");
      }, 100);
    }, 100);
  });
})();
