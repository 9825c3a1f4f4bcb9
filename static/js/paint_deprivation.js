/* LSC map runtime: the deprivation layer's painter: LSOA fill, Core20 outline and its instant restyle (after lsc_core.js in the bundle). */
(function () {
  "use strict";
  var LSC = window.LSC, U = LSC.u;
  var showLayer = U.showLayer, useFill = U.useFill, fillGeom = U.fillGeom, controlKey = U.controlKey, instantMark = U.instantMark;

  function applyDeprivation(p) {
    var Ls = LSC.layers;
    var on = !!(p && p.show), fill = on && p.fill !== false;   // fill: false under an indicator
    if (on) useFill(p.geom);                                    // the vintage's LSOA polygons
    // style first, then add: restyling a layer already on the map redraws it, off the
    // map it only stores the classes, and adding draws them once
    if (fill) paintFill(p, p.cls);
    showLayer(Ls.fill, fill);
    showCore20(p, on && p.core20_outline !== false ? (p.core20 || []) : []);
    LSC._depKey = on && p.instant ? p.instant.key : null;
    if (!fill) return 0;
    return p.cls.filter(function (c) { return c > 0; }).length;
  }

  // The Core20 outline is cased: a dark line under the orange one, so it reads on every
  // fill under it (orange on the dark deprivation blues, the dark casing on the orange
  // access palette and on light colours). One canvas layer strokes both, casing first,
  // over the vintage's LSOA polygons.
  function showCore20(p, idx) {
    var o = LSC._shareCfg && LSC._shareCfg.outlines, w = (o && o.core20_weight) || 1.6;
    var strokes = [{ color: (p && p.core20_casing) || "#1a1a1a", weight: w + 2.4, opacity: 0.9 },
                   { color: (p && p.core20_color) || "#ff7f00", weight: w, opacity: 1 }];
    var Ls = LSC.layers, geom = fillGeom(), key = JSON.stringify([idx, strokes, geom.name]);
    if (Ls.core20 && Ls.core20._geom !== geom) { LSC.map.removeLayer(Ls.core20); Ls.core20 = null; }
    if (!Ls.core20) {
      Ls.core20 = LSC.polysLayer(geom, { renderer: LSC.renderers["lsc-core20"] });
      LSC._all.push(Ls.core20);
    }
    if (Ls.core20._lscKey !== key) { Ls.core20._lscKey = key; Ls.core20.outline(idx, strokes); }
    showLayer(Ls.core20, idx.length > 0);
  }
  LSC._showCore20 = showCore20;

  function paintFill(p, cls) {
    LSC.layers.fill.restyle(cls, p.palette, LSC.fillOf(p.nodata_color || "hatch"), p.opacity || 0.85);
  }

  LSC._instantParts.deprivation = function (doc) {
    var p = LSC.parts.deprivation, inst = p && p.show && p.fill !== false && p.instant;
    var d = inst && LSC._instantData[inst.url];
    if (!d || !LSC.layers.fill) return;
    var key = controlKey(doc, inst);
    if (key == null || key === LSC._depKey || !d.cls[key]) return;
    var geom = (inst.geoms || {})[key.split("|")[0]] || p.geom;   // a vintage switch changes the polygons too
    if (!LSC.topoOf(LSC._built, geom)) {          // a split file not loaded yet: fetch it, and
      LSC.need(LSC._built, [geom]);               // let the rerun paint (its round waits for it)
      return;
    }
    LSC._depKey = key;
    var wasOn = LSC.map.hasLayer(LSC.layers.fill);
    useFill(geom);
    paintFill(p, d.cls[key]);
    if (wasOn) showLayer(LSC.layers.fill, true);
    showCore20(p, p.core20_outline !== false ? (d.core20[key.split("|")[0]] || []) : []);
    instantMark("data-lsc-styled", key);
  };

  LSC.paint.deprivation = applyDeprivation;
})();
