/* LSC map runtime, core: loaded once per map iframe (served from /app/static/js/), followed
 * in the same bundle by one painter per layer (static/js/paint_*.js, render/map.py).
 *
 * The folium base map never changes; it calls LSC.init(map) once. On each Streamlit
 * rerun st_folium evals the feature-group script, which calls LSC.set(part, payload)
 * for each layer, with LSC.commit(view) first (it applies after the whole script ran).
 * Geometry comes from one static TopoJSON
 * fetched once and cached on this window; a rerun only carries small styling arrays.
 * Service points (with their popups) likewise come from static files (LSC._svcData).
 * Parts not set in a round are hidden. Nothing here talks to any host but the page's.
 */
(function () {
  "use strict";
  var LSC = (window.LSC = window.LSC || {});
  LSC._next = {};
  LSC.parts = {};
  LSC.fetched = LSC.fetched || {};
  LSC.layers = LSC.layers || {};
  LSC.applied = null;
  // diagnostics for the benchmarks: LSC.marks[name] = epoch ms of the first time it happened
  LSC.marks = LSC.marks || {};
  function mark(name) {
    if (!LSC.marks[name]) LSC.marks[name] = Math.round(performance.timeOrigin + performance.now());
  }
  mark("runtime");

  function esc(s) {
    return String(s == null ? "" : s)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  LSC.esc = esc;

  function fmt(n, dp) {
    if (n == null || isNaN(n)) return "n/a";
    return Number(n).toLocaleString("en-GB", { minimumFractionDigits: dp || 0, maximumFractionDigits: dp || 0 });
  }

  // No data is hatched grey (never white, which reads as "good"): a fill colour of
  // "hatch" becomes this canvas pattern (Leaflet's canvas renderer assigns fillColor to
  // the context's fillStyle as it is, so a CanvasPattern fills like a colour).
  LSC.hatch = function () {
    if (LSC._hatch) return LSC._hatch;
    var c = document.createElement("canvas"), n = 8;
    c.width = c.height = n;
    var x = c.getContext("2d");
    x.fillStyle = "#e6e6e6"; x.fillRect(0, 0, n, n);
    x.strokeStyle = "#6e6e6e"; x.lineWidth = 1.6;
    x.beginPath();
    x.moveTo(0, n); x.lineTo(n, 0);
    x.moveTo(-n / 2, n / 2); x.lineTo(n / 2, -n / 2);
    x.moveTo(n / 2, n * 1.5); x.lineTo(n * 1.5, n / 2);
    x.stroke();
    LSC._hatch = x.createPattern(c, "repeat");
    return LSC._hatch;
  };
  LSC.fillOf = function (c) { return c === "hatch" ? LSC.hatch() : c; };

  LSC.fetchJSON = function (url) {
    if (!LSC.fetched[url]) {
      LSC.fetched[url] = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " for " + url);
        return r.json();
      });
      LSC.fetched[url].catch(function (e) { delete LSC.fetched[url]; LSC.error = String(e); });
    }
    return LSC.fetched[url];
  };

  var PANES = [
    // name, z-index, pointer events
    ["lsc-fill", 350, false],
    ["lsc-core20", 360, false],
    ["lsc-area", 370, false],
    ["lsc-prio", 390, false],
    ["lsc-wards", 395, false],
    ["lsc-labels", 450, false],
  ];

  LSC.init = function (map) {
    mark("init");
    if (LSC._libsCheck) LSC._libsCheck();
    LSC.map = map;
    LSC.renderers = {};
    PANES.forEach(function (p) {
      var pane = map.getPane(p[0]) || map.createPane(p[0]);
      pane.style.zIndex = p[1];
      if (!p[2]) pane.style.pointerEvents = "none";
      if (p[0] !== "lsc-labels") LSC.renderers[p[0]] = L.canvas({ pane: p[0], padding: 0.3 });
    });
    // Interactive vector layers (services, planner...) share the map's default renderer
    // in the overlay pane (z 400), so later-added points stay on top and clickable.
    map.on("zoomend moveend", function () { LSC._labels(); });
    map.on("mousemove", function (e) { LSC._wardHover(e.latlng); });
    map.on("mouseout", function () { LSC._wardHover(null); });
  };

  LSC.set = function (part, payload) { LSC._next[part] = payload; };

  // ---------------------------------------------------------------- geometry
  // This runtime runs before Leaflet and topojson-client (they follow it in the same
  // file, so the geometry download starts as early as possible): anything that needs
  // them waits for them here. LSC.init (called by the map script, after them) settles it.
  LSC._libs = function () {
    if (window.L && window.topojson) return Promise.resolve();
    if (!LSC._libsPromise) {
      LSC._libsPromise = new Promise(function (resolve, reject) {
        var t0 = Date.now();
        LSC._libsCheck = function () { if (window.L && window.topojson) resolve(); };
        (function poll() {
          if (window.L && window.topojson) return resolve();
          if (Date.now() - t0 > 60000) return reject(new Error("Leaflet/topojson did not load"));
          setTimeout(poll, 10);
        })();
      });
    }
    return LSC._libsPromise;
  };

  LSC._geo = function (url) {
    if (LSC._geoUrl === url && LSC._geoPromise) return LSC._geoPromise;
    LSC._geoUrl = url;
    LSC.fetchJSON(url).then(function () { mark("geo_fetched"); });
    LSC._libs().then(function () { mark("libs"); });
    LSC._geoPromise = Promise.all([LSC.fetchJSON(url), LSC._libs()]).then(function (r) {
      var topo = r[0];
      mark("geo_start");
      var out = { meta: topo.lsc, fc: {}, topo: topo, topos: {}, split: (topo.lsc && topo.lsc.split) || {} };
      // lsoa (2011, IoD2019) and lsoa21 (2021, IoD2025); prio19 where the footprint has
      // NHSE/I priority wards (their Dec-2019 shapes). Each object is decoded on first use;
      // the 2011 LSOAs are in a file of their own (lsc.split), fetched when a view draws
      // them (LSC.need): England's default view never downloads them.
      Object.keys(topo.objects).forEach(function (k) { lazyFc(out, topo, k); });
      mark("geo_decoded");
      return out;
    });
    return LSC._geoPromise;
  };

  function lazyFc(g, topo, k) {
    Object.defineProperty(g.fc, k, { configurable: true, enumerable: true, get: function () {
      var fc = topojson.feature(topo, topo.objects[k]);
      fc.lscName = k;
      fc.features.forEach(function (f, i) { f.properties = { i: i }; });
      Object.defineProperty(g.fc, k, { value: fc, enumerable: true });
      return fc;
    } });
  }

  // The topology holding object `name` (the main file or a split file already loaded).
  LSC.topoOf = function (g, name) {
    if (!g) return null;
    return g.topo.objects[name] ? g.topo : g.topos[name] || null;
  };
  // A promise of geometry `g` once the objects `names` are loaded (split files fetched
  // and attached as they are first needed; unknown names are ignored).
  LSC.need = function (g, names) {
    var waits = (names || []).filter(function (k) {
      return k && !LSC.topoOf(g, k) && g.split[k];
    }).map(function (k) {
      return LSC.fetchJSON(g.split[k]).then(function (t) {
        if (!g.topos[k]) { g.topos[k] = t; lazyFc(g, t, k); }
      });
    });
    return waits.length ? Promise.all(waits).then(function () { return g; }) : Promise.resolve(g);
  };
  // The objects this round's parts draw (so their split files come before the paint).
  function neededObjects(parts) {
    var out = [], d = parts.deprivation, ind = parts.indicators;
    if (d && d.show && d.geom) out.push(d.geom);
    if (ind && ind.show && ind.object) out.push(ind.object);
    return out;
  }

  function makeLayer(fc, opts) {
    return L.geoJSON(fc, opts);
  }

  function showLayer(layer, on) {
    var m = LSC.map;
    if (on && !m.hasLayer(layer)) m.addLayer(layer);
    if (!on && m.hasLayer(layer)) m.removeLayer(layer);
  }

  function build(g) {
    if (LSC._built === g) return;
    // drop layers of an older geometry file
    (LSC._all || []).forEach(function (l) { LSC.map.removeLayer(l); });
    var old = (LSC.layers && LSC.layers.subsets) || {};
    Object.keys(old).forEach(function (k) { LSC.map.removeLayer(old[k].layer); });
    var R = LSC.renderers;
    var Ls = (LSC.layers = {});
    LSC._all = [];
    LSC._built = g;
    Ls.fills = {};      // LSOA fill per geometry object ("lsoa" 2011, "lsoa21" 2021), built on first use
    Ls.fill = fillLayer(g, "lsoa21");
    mark("fill_built");
    Ls.districts = makeLayer(g.fc.districts, { renderer: R["lsc-area"], interactive: false,
      style: { color: "#555555", weight: 1.2, opacity: 0.9, fill: false } });
    Ls.area = makeLayer({ type: "FeatureCollection", features: [] }, { renderer: R["lsc-area"], interactive: false });
    mark("districts_built");
    // ward outlines: one canvas layer (lsc_polys.js); the hover finds the ward under the
    // pointer itself (LSC.polyAt), shows its tooltip and outlines it (Ls.wardHover)
    var wg = LSC.polyGeom(g.topo, "wards");
    var all = new Array(wg.n);
    for (var wi = 0; wi < wg.n; wi++) all[wi] = wi;
    Ls.wards = LSC.polysLayer(wg, { renderer: R["lsc-wards"] }).outline(all, [{ color: "#2b2b2b", weight: 0.7, opacity: 0.8 }]);
    Ls.wardHover = LSC.polysLayer(wg, { renderer: R["lsc-wards"] });
    Ls.wardHover._lscIdx = -1;
    mark("wards_decoded");
    Ls.subsets = {};   // small layers built on demand from a subset of features
    Ls.labels = L.layerGroup([], { pane: "lsc-labels" });
    LSC._all = LSC._all.concat([Ls.districts, Ls.area, Ls.wards, Ls.wardHover, Ls.labels]);
    LSC._built = g;
    LSC.map.addLayer(Ls.districts);
  }

  // The LSOA fill of one geometry object (the vintage's own LSOA polygons): one canvas
  // layer of all its areas (static/js/lsc_polys.js), built once, then only restyled; the
  // other vintage's layer is taken off the map.
  function fillLayer(g, obj) {
    var Ls = LSC.layers;
    if (!LSC.topoOf(g, obj)) obj = "lsoa21";       // not loaded (LSC.need): the 2021 polygons
    if (!Ls.fills[obj]) {
      Ls.fills[obj] = LSC.polysLayer(LSC.polyGeom(LSC.topoOf(g, obj), obj), { renderer: LSC.renderers["lsc-fill"],
        stroke: true, weight: 0.3, color: "#ffffff", opacity: 0.6 });
      Ls.fills[obj]._lscObj = obj;
      LSC._all.push(Ls.fills[obj]);
    }
    return Ls.fills[obj];
  }

  // Switch the LSOA fill to geometry object `obj`; the other vintage's fill leaves the map.
  function useFill(obj) {
    var Ls = LSC.layers, lay = fillLayer(LSC._built, obj || "lsoa");
    Object.keys(Ls.fills).forEach(function (k) { if (Ls.fills[k] !== lay) showLayer(Ls.fills[k], false); });
    if (Ls.fill !== lay && LSC.map.hasLayer(Ls.fill)) { showLayer(Ls.fill, false); }
    Ls.fill = lay;
    return lay;
  }

  // The decoded LSOA polygons the current fill is drawn from (Core20 outlines use the same).
  function fillGeom() {
    var g = LSC._built, obj = (LSC.layers.fill && LSC.layers.fill._lscObj) || "lsoa21";
    return LSC.polyGeom(LSC.topoOf(g, obj), obj);
  }
  LSC.lsoaObject = function () { return (LSC.layers.fill && LSC.layers.fill._lscObj) || "lsoa21"; };

  // ---------------------------------------------------------------- hover text
  // "click for profile" only where a click opens one (the app; not a standalone export)
  function inApp() { return !!(window.Streamlit && window.Streamlit.setComponentValue); }

  function ringIn(ring, ll) {
    var inside = false, x = ll.lng, y = ll.lat;
    for (var a = 0, b = ring.length - 1; a < ring.length; b = a++) {
      var xi = ring[a].lng, yi = ring[a].lat, xj = ring[b].lng, yj = ring[b].lat;
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) inside = !inside;
    }
    return inside;
  }
  function polyIn(lls, ll) {      // L.Polygon latlngs: a ring, [outer, holes...] or a list of those
    if (!lls.length) return false;
    if (lls[0] instanceof L.LatLng) return ringIn(lls, ll);
    if (lls[0].length && lls[0][0] instanceof L.LatLng) {
      if (!ringIn(lls[0], ll)) return false;
      for (var h = 1; h < lls.length; h++) if (ringIn(lls[h], ll)) return false;
      return true;
    }
    for (var k = 0; k < lls.length; k++) if (polyIn(lls[k], ll)) return true;
    return false;
  }
  // index of the indicator area under `ll` (-1: none)
  LSC._indAt = function (ll) {
    var lay = LSC.ind.current, found = -1;
    if (!lay || !ll) return -1;
    lay.eachLayer(function (l) {
      if (found < 0 && l.getBounds().contains(ll) && polyIn(l.getLatLngs(), ll)) found = l._indI;
    });
    return found;
  };

  // While an indicator is drawn the hover shows ITS value (of the ward, or of the area
  // under the pointer), not the ward's IMD figures.
  function indTip(i, ll, head) {
    var p = LSC.parts.indicators, H = p && p.hover && LSC._hover && LSC._hover[p.hover];
    if (!H) {
      if (p && p.hover) LSC.fetchJSON(p.hover).then(function (d) { (LSC._hover = LSC._hover || {})[p.hover] = d; });
      return head + "<div class='lsc-tip-foot'>loading the indicator's values&hellip;</div>";
    }
    var j = p.object === "wards" ? i : LSC._indAt(ll);
    var v = j >= 0 ? H.values[j] : undefined;
    var txt = v === "suppressed" ? "suppressed" : v == null ? "no data" : fmt(v, H.dp) + (H.unit ? " " + esc(H.unit) : "");
    var h = head + "<table class='lsc-tip-t'><tr><td>" + esc(H.label) + "</td><td>" + txt + "</td></tr>";
    if (p.object !== "wards" && j >= 0) h += "<tr><td>Area</td><td>" + esc(H.names[j]) + "</td></tr>";
    if (j >= 0 && H.core20[j] != null) h += "<tr><td>Residents in Core20</td><td>" + fmt(H.core20[j], 1) + "%</td></tr>";
    return h + "</table><div class='lsc-tip-foot'>" + esc(H.period) + " &middot; " + esc(H.what) +
      (inApp() ? " &middot; click for ward profile" : "") + "</div>";
  }

  LSC._wardTip = function (i, ll) {
    var g = LSC._built, st = LSC._stats, p = LSC.parts.indicators;
    var name = g ? g.meta.ward_names[i] : "";
    var r = st && st.rows[i];
    var head = "<div class='lsc-tip-title'>" + esc(r ? r[0] : name) + "</div>" +
      (r ? "<div>" + esc(r[1]) + " &middot; " + esc(r[2]) + " / " + esc(r[3]) + "</div>" : "");
    if (p && p.show) {
      if (!ll && p.object !== "wards" && Ls_wardCentre(i)) ll = Ls_wardCentre(i);
      return indTip(i, ll, head);
    }
    if (!st || !st.rows[i]) return "<b>" + esc(name) + "</b>";
    var h = head;
    if (r[4] == null) return h + "<div>No LSOA best-fits this ward: no figures</div>";
    h += "<table class='lsc-tip-t'>" +
      "<tr><td>Population</td><td>" + fmt(r[4]) + "</td></tr>" +
      "<tr><td>IMD score (pop-weighted)</td><td>" + fmt(r[5], 1) + "</td></tr>" +
      "<tr><td>Core20</td><td>" + fmt(r[6], 1) + "% (" + fmt(r[7]) + " people)</td></tr>" +
      "<tr><td>Rank in " + esc(st.rank_in || "LSC") + "</td><td>" + fmt(r[8]) + " of " + fmt(r[9]) + "</td></tr></table>" +
      "<div class='lsc-tip-foot'>" + esc(st.vintage) + " &middot; 1 = most deprived" +
      (inApp() ? " &middot; click for profile" : "") + "</div>";
    return h;
  };
  // the ward's label point (a first guess of the area under the pointer before it moves)
  function Ls_wardCentre(i) {
    var g = LSC._built, pt = g && g.meta.ward_labels && g.meta.ward_labels[i];
    return pt ? L.latLng(pt[0], pt[1]) : null;
  }

  // ---------------------------------------------------------------- ward hover
  // The ward under the pointer (while the ward layer is on): its outline thickened and a
  // tooltip following the pointer (the ward's figures, or while an indicator is drawn the
  // value of the area under the pointer). Markers stop the event (bubblingMouseEvents).
  LSC._wardHover = function (ll) {
    var Ls = LSC.layers, m = LSC.map;
    if (!Ls || !Ls.wards) return;
    var on = ll && m.hasLayer(Ls.wards);
    var i = on ? LSC.polyAt(Ls.wards._geom, ll.lat, ll.lng) : -1;
    var hov = Ls.wardHover;
    if (hov._lscIdx !== i) {
      hov._lscIdx = i;
      var st = Ls.wards._strokes[0];
      hov.outline(i >= 0 ? [i] : [], [{ color: st.color, weight: Math.max(2.5, st.weight + 1.5), opacity: 1 }]);
      showLayer(hov, i >= 0);
    }
    var tip = LSC._tip || (LSC._tip = L.tooltip({ direction: "top", className: "lsc-tip", opacity: 0.95, offset: [0, -6] }));
    if (i < 0) { if (m.hasLayer(tip)) m.removeLayer(tip); return; }
    tip.setLatLng(ll).setContent(LSC._wardTip(i, ll));
    if (!m.hasLayer(tip)) tip.addTo(m);
  };

  // ---------------------------------------------------------------- labels
  LSC._labels = function () {
    var Ls = LSC.layers, g = LSC._built, p = LSC.parts.wards;
    if (!g || !Ls.labels) return;
    var m = LSC.map, want = p && p.show && p.labels && m.getZoom() >= (p.label_min_zoom || 12);
    Ls.labels.clearLayers();
    if (!want) { showLayer(Ls.labels, false); return; }
    var b = m.getBounds().pad(0.1);
    g.meta.ward_labels.forEach(function (pt, i) {
      if (!b.contains(pt)) return;
      Ls.labels.addLayer(L.marker(pt, {
        pane: "lsc-labels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "lsc-label", html: "<span>" + esc(g.meta.ward_names[i]) + "</span>", iconSize: null }),
      }));
    });
    showLayer(Ls.labels, true);
  };

  // ---------------------------------------------------------------- apply
  // A layer holding only the features `idx` of collection `fc`, rebuilt when the set
  // (or style) changes, hidden when empty. Keeps the first paint to the layers in use.
  function subset(name, fc, idx, renderer, style) {
    var Ls = LSC.layers, key = JSON.stringify([idx, style, fc.lscName || ""]);
    var cur = Ls.subsets[name];
    if (cur && cur.key === key) { showLayer(cur.layer, idx.length > 0); return; }
    if (cur) LSC.map.removeLayer(cur.layer);
    delete Ls.subsets[name];
    if (!idx.length) return;
    var feats = idx.map(function (i) { return fc.features[i]; }).filter(Boolean);
    var layer = L.geoJSON({ type: "FeatureCollection", features: feats },
      { renderer: renderer, interactive: false, style: style });
    Ls.subsets[name] = { key: key, layer: layer };
    LSC.map.addLayer(layer);
  }

  // ---------------------------------------------------------------- instant restyle
  // A change of a sidebar control that only re-colours a layer (deprivation: Measure /
  // Vintage / Deciles; indicators: Indicator / Classes) restyles it at once from a file
  // holding every class array for those controls (fetched after the layer's first
  // paint); the rerun that follows re-applies the same classes with the legend and
  // tables. Reads the app page's controls (this frame is same-origin); if it cannot find
  // them, or the file is not loaded yet, nothing happens and the rerun paints as before.
  LSC._instantParts = LSC._instantParts || {};   // part -> function (doc): restyle if its controls moved
  LSC._instantData = LSC._instantData || {};     // url -> parsed file

  // The browser contract (layers/controls.py): a payload names the controls it reads by
  // their Streamlit widget key; Streamlit renders each keyed widget's container with the
  // class st-key-<key> (characters other than letters, digits, _ and - become -), so a
  // control is found by its key, never by its visible label.
  LSC.keyClass = function (key) { return "st-key-" + String(key).trim().replace(/[^a-zA-Z0-9_-]/g, "-"); };

  function controlValue(doc, key) {
    var sb = doc.querySelector("[data-testid='stSidebar']");
    var box = sb && sb.querySelector("." + LSC.keyClass(key));
    if (!box) return null;
    var inp = box.querySelector("input[role='combobox']");           // a selectbox: its shown option
    if (inp) return inp.value;
    var on = box.querySelector("input[type='radio']:checked");       // a radio: the checked option's text
    var l = on && on.closest("label");
    return l ? l.innerText.trim() : null;
  }

  // The key ("a|b|c") the page's controls now point at, or null when one cannot be read
  // or a guard control (e.g. the dataset) no longer shows what the file was built for.
  function controlKey(doc, inst) {
    var keys = [], g = inst.guards || {};
    for (var name in g) {
      if (Object.prototype.hasOwnProperty.call(g, name) && controlValue(doc, name) !== g[name]) return null;
    }
    for (var k = 0; k < inst.names.length; k++) {
      var v = controlValue(doc, inst.names[k]);
      var map = inst.controls[inst.names[k]];
      var mapped = v == null || !Object.prototype.hasOwnProperty.call(map, v) ? undefined : map[v];
      if (mapped === undefined) return null;
      keys.push(mapped);
    }
    return keys.join("|");
  }

  LSC._instantCheck = function () {
    var doc;
    try { doc = window.parent.document; } catch (e) { return; }
    Object.keys(LSC._instantParts).forEach(function (k) {
      try { LSC._instantParts[k](doc); } catch (e) { console.error("LSC instant " + k + ":", e); }
    });
  };

  function instantMark(attr, key) {
    LSC.instantCount = (LSC.instantCount || 0) + 1;
    requestAnimationFrame(function () { document.body.setAttribute(attr, key); });
  }

  function instantSetup(inst) {
    if (!inst || !inst.url || LSC._instantData[inst.url] || LSC._instantLoading === inst.url) return;
    var url = (LSC._instantLoading = inst.url);
    // optional (e.g. absent from a standalone export): a failure only means no instant path
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (d) { LSC._instantData[url] = d; }).catch(function () {}).then(function () {
      if (LSC._instantLoading === url) LSC._instantLoading = null;
    });
    if (LSC._instantHooked) return;
    var doc;
    try { doc = window.parent.document; } catch (e) { return; }
    LSC._instantHooked = true;
    // the control's displayed value updates a frame or more after the event: look on
    // every animation frame for a short while
    var until = 0;
    var tick = function () {
      LSC._instantCheck();
      if (performance.now() < until) requestAnimationFrame(tick);
    };
    var later = function () {
      var idle = performance.now() >= until;
      until = performance.now() + 400;
      if (idle) requestAnimationFrame(tick);
    };
    ["click", "change", "keyup"].forEach(function (ev) { doc.addEventListener(ev, later, true); });
  }

  function applyArea(a) {
    var Ls = LSC.layers, g = LSC._built;
    Ls.area.clearLayers();
    if (a && a.kind && a.kind !== "icb" && a.idx != null && g.fc[a.kind]) {
      // one feature (a place, a district) or several (a custom area's LSOAs)
      (Array.isArray(a.idx) ? a.idx : [a.idx]).forEach(function (i) {
        var f = i >= 0 && g.fc[a.kind].features[i];
        if (f) Ls.area.addData(f);
      });
      Ls.area.setStyle({ color: "#000000", weight: Array.isArray(a.idx) ? 2 : 3, opacity: 1, fill: false });
    }
    showLayer(Ls.area, true);
  }

  // ---------------------------------------------------------------- for the painters
  // Each layer's painter (static/js/paint_<layer>.js, after this file in the runtime
  // bundle: render/map.py RUNTIME_FILES) registers LSC.paint[layer] = function (payload);
  // these are the helpers they share.
  LSC.paint = LSC.paint || {};
  LSC.u = { mark: mark, esc: esc, fmt: fmt, makeLayer: makeLayer, showLayer: showLayer,
            useFill: useFill, fillGeom: fillGeom, subset: subset, controlKey: controlKey,
            instantMark: instantMark, instantSetup: instantSetup };

  // Once per map frame: tell the app its first map is on screen (the app's first run
  // draws only the map, legend and notes; the controls and tables follow this signal).
  // streamlit-folium exposes its Streamlit object; the standalone HTML export has none.
  LSC._signalPainted = function (v) {
    if (LSC._signalled || !window.Streamlit || !window.Streamlit.setComponentValue) return;
    LSC._signalled = true;
    try {
      window.Streamlit.setComponentValue({ last_clicked: null, lsc_painted: String(v) });
    } catch (e) { console.error("LSC signal:", e); }
  };

  LSC.commit = function (view) {
    // Called first in the round; the parts are read after the whole feature-group
    // script has run (microtask), so one failing layer script cannot block the rest.
    var token = (LSC._token = (LSC._token || 0) + 1);
    mark("commit");
    return Promise.resolve().then(function () {
      var parts = LSC._next;
      LSC._next = {};
      LSC._pending = { parts: parts, view: view };
      return LSC._apply(token, parts, view);
    });
  };

  LSC._apply = function (token, parts, view) {
    var sp = parts.services;
    var svc = sp && sp.show && sp.files ? LSC._svcData(sp.files).catch(function (e) {
      LSC.error = String(e);
      console.error("LSC services:", e);
      return null;                        // the rest of the map still paints
    }) : Promise.resolve(null);
    var geo = LSC._geo(view.geo).then(function (g) { return LSC.need(g, neededObjects(parts)); });
    return Promise.all([geo, svc]).then(function (res) {
      var g = res[0];
      if (token !== LSC._token) return;   // a newer round superseded this one
      // move the view first: layers added afterwards are projected and drawn once
      if (view.fit && view.fit.key !== LSC._fitKey) {
        LSC._fitKey = view.fit.key;
        LSC.map.fitBounds(view.fit.b, { animate: false, maxZoom: view.fit.max_zoom || 14 });
      }
      mark("fitted");
      build(g);
      mark("built");
      LSC.parts = parts;
      var P = LSC.paint;
      var n = P.deprivation(parts.deprivation);
      mark("deprivation");
      P.wards(parts.wards);
      mark("wards");
      P.priority(parts.priority, view.sel);
      mark("priority");
      applyArea(view.area);
      P.services(sp, res[1]);
      mark("applied");
      var ind = P.indicators(parts.indicators).catch(function (e) {
        LSC.error = String(e);
        document.body.setAttribute("data-lsc-error", LSC.error);
        console.error("LSC indicators:", e);
      });
      requestAnimationFrame(function () {
        LSC.applied = view.v;
        LSC.painted = n;
        document.body.setAttribute("data-lsc-applied", view.v);
        document.body.setAttribute("data-lsc-painted", String(n));
        var dp = parts.deprivation;
        document.body.setAttribute("data-lsc-styled", dp && dp.show && dp.instant ? dp.instant.key : "off");
        if (dp && dp.show) instantSetup(dp.instant);
        if (!LSC.firstPaintAt) LSC.firstPaintAt = performance.timeOrigin + performance.now();   // diagnostics
        mark("painted");
        LSC._signalPainted(view.v);
      });
      return ind;
    }).catch(function (e) {
      LSC.error = String(e);
      document.body.setAttribute("data-lsc-error", LSC.error);
      console.error("LSC map:", e);
      LSC._signalPainted("error");        // the controls still come (and show the notes)
    });
  };
  // Prefetch: the geometry URL rides on this script's own URL (?geo=...), so the
  // download starts now, while the remaining scripts and the map script load.
  try {
    var me = document.currentScript && document.currentScript.src;
    var mm = me && /[?&]geo=([^&]+)/.exec(me);
    if (mm) LSC._geo(decodeURIComponent(mm[1]));
  } catch (e) { /* the commit fetches it anyway */ }
})();
