/* LSC map runtime: the services layer's painter: points from static files (after lsc_core.js in the bundle). */
(function () {
  "use strict";
  var LSC = window.LSC, U = LSC.u;
  var showLayer = U.showLayer;

  // ---------------------------------------------------------------- services
  // Points, popups and tooltips (escaped in Python) come from static JSON files that are
  // fetched once and cached; a round carries only {files, cats, closed}. Markers are
  // built once per (files, closed) and category, then only shown or hidden.
  LSC._svcData = function (files) {
    var key = JSON.stringify(files);
    if (LSC._svcMerged && LSC._svcMerged.key === key) return LSC._svcMerged.promise;
    var promise = Promise.all(files.map(LSC.fetchJSON)).then(function (ds) {
      var out = { styles: {}, pts: {} };
      ds.forEach(function (d) {
        Object.keys(d.styles || {}).forEach(function (c) { if (!out.styles[c]) out.styles[c] = d.styles[c]; });
        Object.keys(d.pts || {}).forEach(function (c) { out.pts[c] = (out.pts[c] || []).concat(d.pts[c]); });
      });
      return out;
    });
    LSC._svcMerged = { key: key, promise: promise };
    promise.catch(function () { if (LSC._svcMerged && LSC._svcMerged.key === key) LSC._svcMerged = null; });
    return promise;
  };

  // A cluster of one category: its colour, its count (a large footprint's hospitals or
  // GP practices would otherwise be a thousand overlapping markers at ICB or England zoom)
  function clusterIcon(st) {
    var c = /^#[0-9a-fA-F]{3,8}$/.test(st.colour) ? st.colour : "#555555";
    return function (cl) {
      var n = cl.getChildCount(), d = n < 100 ? 26 : n < 1000 ? 32 : 38;
      return L.divIcon({ className: "marker-cluster lsc-svc-cluster", iconSize: [d, d],
        html: "<div style='width:" + d + "px;height:" + d + "px;line-height:" + d + "px;border-radius:50%;" +
              "margin:0;background:" + c + ";opacity:0.85;color:#fff;font:600 12px/" + d + "px system-ui,sans-serif;" +
              "text-align:center;border:2px solid #fff;box-shadow:0 0 0 1px #1a1a1a'>" + n + "</div>" });
    };
  }

  function svcLayer(cat, st, pts, closed) {
    var shown = pts.filter(function (p) { return closed || !p[4]; });
    var holder;
    if (shown.length > (st.shape === "circle" ? 40 : 150) && L.markerClusterGroup) {
      holder = L.markerClusterGroup({ disableClusteringAtZoom: 12, maxClusterRadius: 45,
        showCoverageOnHover: false, spiderfyOnMaxZoom: false,
        iconCreateFunction: clusterIcon(st) });
    } else {
      holder = L.layerGroup();
    }
    var ms = [];
    shown.forEach(function (p) {
      var m;
      if (st.shape === "circle") {
        m = L.circleMarker([p[0], p[1]], { radius: st.radius, weight: 1, color: p[4] ? st.colour : "#1a1a1a",
          fill: true, fillColor: p[4] ? "#ffffff" : st.colour, fillOpacity: 0.95, bubblingMouseEvents: false,
          className: "lsc-svc lsc-svc-" + cat });
      } else {
        m = L.marker([p[0], p[1]], { icon: L.divIcon({ html: st.svg[p[4]], className: "lsc-svc lsc-svc-" + cat,
          iconSize: [st.size, st.size], iconAnchor: [st.size / 2, st.size / 2] }), keyboard: true });
      }
      m.bindPopup(p[2], { maxWidth: 360 });
      m.bindTooltip(p[3], { direction: "top" });
      ms.push(m);
    });
    if (holder.addLayers) holder.addLayers(ms); else ms.forEach(function (m) { holder.addLayer(m); });   // clusters: one bulk add
    return { layer: holder, n: shown.length };
  }

  function applyServices(p, data) {
    var S = LSC._svc || (LSC._svc = { key: null, cats: {} });
    var on = !!(p && p.show && data);
    if (on) {
      var key = JSON.stringify([p.files, !!p.closed]);
      if (key !== S.key) {
        Object.keys(S.cats).forEach(function (c) { LSC.map.removeLayer(S.cats[c].layer); });
        S.cats = {};
        S.key = key;
      }
    }
    var want = {}, n = 0;
    if (on) (p.cats || []).forEach(function (c) { want[c] = true; });
    Object.keys(S.cats).forEach(function (c) { showLayer(S.cats[c].layer, !!want[c]); });
    Object.keys(want).forEach(function (c) {
      if (!S.cats[c] && data.styles[c]) {
        S.cats[c] = svcLayer(c, data.styles[c], data.pts[c] || [], !!p.closed);
        LSC.map.addLayer(S.cats[c].layer);
      }
      if (S.cats[c]) n += S.cats[c].n;
    });
    document.body.setAttribute("data-lsc-services", String(n));
  }

  LSC.paint.services = applyServices;
})();
