/* LSC map runtime: the deprivation layer's painter: LSOA fill, Core20 outline and its instant restyle (after lsc_core.js in the bundle). */
(function () {
  "use strict";
  var LSC = window.LSC, U = LSC.u;
  var showLayer = U.showLayer, useFill = U.useFill, eachIdx = U.eachIdx, lsoaFc = U.lsoaFc, subset = U.subset, controlKey = U.controlKey, instantMark = U.instantMark;

  function applyDeprivation(p) {
    var Ls = LSC.layers;
    var on = !!(p && p.show), fill = on && p.fill !== false;   // fill: false under an indicator
    if (on) useFill(p.geom);                                    // the vintage's LSOA polygons
    // style first, then add: setStyle on a layer already on a canvas asks the renderer
    // to update each of the ~1,000 polygons (~40 ms on the first paint); off the map it
    // only sets options, and adding draws them once
    if (fill) paintFill(p, p.cls);
    showLayer(Ls.fill, fill);
    showCore20(p, on && p.core20_outline !== false ? (p.core20 || []) : []);
    LSC._depKey = on && p.instant ? p.instant.key : null;
    if (!fill) return 0;
    return p.cls.filter(function (c) { return c > 0; }).length;
  }

  // The Core20 outline is cased: a dark line under the orange one, so it reads on every
  // fill under it (orange on the dark deprivation blues, the dark casing on the orange
  // access palette and on light colours). Both are rebuilt together, casing first.
  function showCore20(p, idx) {
    var o = LSC._shareCfg && LSC._shareCfg.outlines, w = (o && o.core20_weight) || 1.6;
    var casing = { stroke: true, fill: false, color: (p && p.core20_casing) || "#1a1a1a", weight: w + 2.4,
                   opacity: 0.9 };
    var fc = lsoaFc(), cur = LSC.layers.subsets.core20_casing;   // the vintage's LSOA polygons
    if (!cur || cur.key !== JSON.stringify([idx, casing, fc.lscName || ""])) {
      if (LSC.layers.subsets.core20) LSC.map.removeLayer(LSC.layers.subsets.core20.layer);
      delete LSC.layers.subsets.core20;
    }
    subset("core20_casing", fc, idx, LSC.renderers["lsc-core20"], casing);
    subset("core20", fc, idx, LSC.renderers["lsc-core20"],
      { stroke: true, fill: false, color: (p && p.core20_color) || "#ff7f00", weight: w, opacity: 1 });
  }
  LSC._showCore20 = showCore20;

  function paintFill(p, cls) {
    var pal = p.palette, nodata = LSC.fillOf(p.nodata_color || "hatch");
    eachIdx(LSC.layers.fill, function (l, i) {
      var c = cls[i];
      l.setStyle({ fillColor: c > 0 ? pal[c - 1] : nodata, fillOpacity: c > 0 ? (p.opacity || 0.85) : 0.9 });
    });
  }

  LSC._instantParts.deprivation = function (doc) {
    var p = LSC.parts.deprivation, inst = p && p.show && p.fill !== false && p.instant;
    var d = inst && LSC._instantData[inst.url];
    if (!d || !LSC.layers.fill) return;
    var key = controlKey(doc, inst);
    if (key == null || key === LSC._depKey || !d.cls[key]) return;
    LSC._depKey = key;
    var wasOn = LSC.map.hasLayer(LSC.layers.fill);
    useFill((inst.geoms || {})[key.split("|")[0]] || p.geom);   // a vintage switch changes the polygons too
    paintFill(p, d.cls[key]);
    if (wasOn) showLayer(LSC.layers.fill, true);
    showCore20(p, p.core20_outline !== false ? (d.core20[key.split("|")[0]] || []) : []);
    instantMark("data-lsc-styled", key);
  };

  LSC.paint.deprivation = applyDeprivation;
})();
