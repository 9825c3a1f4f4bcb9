/* LSC map runtime: the indicator layer's painter: choropleth on any geometry and its instant restyle (after lsc_core.js in the bundle). */
(function () {
  "use strict";
  var LSC = window.LSC, U = LSC.u;
  var controlKey = U.controlKey, instantMark = U.instantMark, instantSetup = U.instantSetup;

  // ---------------------------------------------------------------- indicators
  // One canvas layer per geometry (LSOAs, wards, districts, places from the map's
  // TopoJSON; Dec-2019 wards and sub-ICBs from an extra file fetched on first use),
  // built once and restyled in place: a round carries only class numbers and colours.
  LSC.ind = LSC.ind || { layers: {}, current: null, key: null };

  function indRenderer() {
    var m = LSC.map, name = "lsc-ind";
    if (!m.getPane(name)) {
      var pn = m.createPane(name); pn.style.zIndex = 355; pn.style.pointerEvents = "none";
      LSC.ind.renderer = L.canvas({ pane: name, padding: 0.3 });
    }
    return LSC.ind.renderer;
  }

  function indExtra(p) { return p.object === "wards19" || p.object === "subicb"; }

  function indLayer(p) {
    var key = p.object + "|" + (indExtra(p) ? p.extra : LSC._geoUrl);
    if (LSC.ind.layers[key]) return Promise.resolve(LSC.ind.layers[key]);
    var fc = indExtra(p) ? LSC.fetchJSON(p.extra).then(function (topo) {
      return topojson.feature(topo, topo.objects[p.object]);
    }) : Promise.resolve(LSC._built.fc[p.object]);
    return fc.then(function (fc) {
      var lay = L.geoJSON(fc, { renderer: indRenderer(), interactive: false,
        style: { stroke: true, weight: 0.4, color: "#ffffff", opacity: 0.7, fillOpacity: 0.85, fillColor: "#dddddd" } });
      var i = 0;
      lay.eachLayer(function (l) { l._indI = i++; });
      LSC.ind.layers[key] = lay;
      return lay;
    });
  }

  // Style every area of `lay` by class (>= 0: colours[c]; -2 suppressed; -1 no data).
  function paintInd(lay, p, cls, colors) {
    var n = 0, ms = p.missing_style, ss = p.suppressed_style, stroke = p.stroke || "#ffffff";
    lay.eachLayer(function (l) {
      var c = cls[l._indI];
      if (c >= 0) {
        n++;
        l.setStyle({ fill: true, fillColor: colors[c], fillOpacity: p.opacity, stroke: true, color: stroke,
                     weight: p.weight, opacity: 0.8, dashArray: null });
      } else if (c === -2) {
        l.setStyle({ fill: true, fillColor: LSC.fillOf(ss.fillColor), fillOpacity: ss.fillOpacity, stroke: true,
                     color: ss.color, weight: 1, opacity: 1, dashArray: ss.dashArray });
      } else {
        l.setStyle({ fill: true, fillColor: LSC.fillOf(ms.fillColor), fillOpacity: ms.fillOpacity, stroke: true,
                     color: ms.color, weight: 0.9, opacity: 1, dashArray: ms.dashArray });
      }
    });
    return n;
  }

  LSC._applyInd = function (p) {
    var m = LSC.map;
    function hideAll(except) {
      Object.keys(LSC.ind.layers).forEach(function (k) {
        var l = LSC.ind.layers[k];
        if (l !== except && m.hasLayer(l)) m.removeLayer(l);
      });
    }
    LSC.ind.calls = (LSC.ind.calls || 0) + 1;
    if (!p || !p.show) {
      hideAll(null);
      LSC.ind.current = LSC.ind.currentFor = null;
      document.body.setAttribute("data-lsc-ind", "off");
      return Promise.resolve();
    }
    var token = LSC._token;
    return indLayer(p).then(function (lay) {
      if (token !== LSC._token) return;   // a newer round superseded this one
      // the layer already shown is restyled in place: removing and re-adding it would
      // re-project every polygon and rebuild its canvas on each switch
      hideAll(lay);
      var n = paintInd(lay, p, p.cls, p.colors);
      if (!m.hasLayer(lay)) m.addLayer(lay);
      LSC.ind.current = lay;
      LSC.ind.currentFor = p;             // the payload this layer shows (instant checks it)
      LSC.ind.key = p.instant ? p.instant.key : null;
      LSC.ind.painted = n;
      instantSetup(p.instant);
      if (p.hover) LSC.fetchJSON(p.hover).then(function (d) { (LSC._hover = LSC._hover || {})[p.hover] = d; },
                                               function () {});
      requestAnimationFrame(function () {
        document.body.setAttribute("data-lsc-ind", p.v + ":" + n);
      });
    });
  };

  LSC._instantParts.indicators = function (doc) {
    var p = LSC.parts.indicators, inst = p && p.show && p.instant;
    var d = inst && LSC._instantData[inst.url], lay = LSC.ind.current;
    if (!d || !lay || LSC.ind.currentFor !== p) return;   // the layer of an older round: wait for this one
    var key = controlKey(doc, inst);
    if (key == null || key === LSC.ind.key || !d[key]) return;
    LSC.ind.key = key;
    var n = paintInd(lay, p, d[key].cls, d[key].colors);
    instantMark("data-lsc-ind-instant", key + ":" + n);
  };

  LSC.paint.indicators = LSC._applyInd;
})();
