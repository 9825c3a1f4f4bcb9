/* LSC map runtime: many polygons as ONE canvas layer (after lsc_core.js in the bundle).
 *
 * The LSOA fill (33,755 polygons for England) and the Core20 outlines were one Leaflet
 * L.Polygon per area: building, projecting and restyling tens of thousands of objects
 * was most of a large footprint's first paint and of its repaint. Here an object of the
 * geometry file is decoded once, straight from its TopoJSON arcs, into flat typed arrays
 * of Web Mercator coordinates (no GeoJSON, no per-area objects), and drawn by one layer
 * living in a Leaflet canvas renderer (so pan, zoom animation and redraws are Leaflet's
 * own): areas are batched by style (one fill per colour), culled to the view, thinned to
 * a pixel, and areas smaller than ~1.5 px drawn as a dot so a dense city keeps its colour
 * at national zoom. A restyle is a new class array and one redraw.
 *
 * LSC.polyGeom(topo, name)  decoded object (cached on the topology)
 * LSC.polysLayer(geom, opts) the layer: .restyle(cls, palette, nodata, opacity) (fill),
 *   .outline(idx, strokes) (stroke only), .count(), .colors(), .strokes(), .setWeight(w), .setStyle()
 * LSC.polyAt(geom, lat, lng) the area under a point (the ward hover, lsc_core.js).
 * Non-interactive: a click reaches the map (Python finds the ward at the point).
 */
(function () {
  "use strict";
  var LSC = window.LSC;
  var PI = Math.PI, MAXLAT = 85.0511287798;
  var CHUNK = 8;          // areas per canvas path (see _updatePath)

  function mercY(lat) {
    if (lat > MAXLAT) lat = MAXLAT; else if (lat < -MAXLAT) lat = -MAXLAT;
    var s = Math.sin(lat * PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * PI);
  }

  // One object of a TopoJSON topology as flat arrays: xy (normalised Web Mercator, 0-1,
  // x east, y south), rings as [start, end) point ranges, areas as ranges of rings, and
  // each area's bounding box. Arcs are decoded once per topology (shared ones too).
  LSC.polyGeom = function (topo, name) {
    var cache = topo.__lscPolys || (topo.__lscPolys = {});
    if (cache[name]) return cache[name];
    var obj = topo.objects[name];
    if (!obj) return null;
    var tf = topo.transform, arcs = topo.arcs;
    var kx = tf ? tf.scale[0] : 1, ky = tf ? tf.scale[1] : 1, tx = tf ? tf.translate[0] : 0, ty = tf ? tf.translate[1] : 0;
    var dec = topo.__lscArcs || (topo.__lscArcs = []);
    function arcXY(a) {
      var d = dec[a];
      if (d) return d;
      var src = arcs[a], n = src.length, out = new Float64Array(n * 2), x = 0, y = 0;
      for (var k = 0; k < n; k++) {
        var p = src[k];
        if (tf) { x += p[0]; y += p[1]; } else { x = p[0]; y = p[1]; }
        out[2 * k] = (x * kx + tx + 180) / 360;
        out[2 * k + 1] = mercY(y * ky + ty);
      }
      return (dec[a] = out);
    }
    var geoms = obj.geometries || [], n = geoms.length;
    // first pass: sizes
    var nPts = 0, nRings = 0;
    var polysOf = function (g) {
      if (!g || !g.arcs) return [];
      return g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
    };
    geoms.forEach(function (g) {
      polysOf(g).forEach(function (poly) {
        poly.forEach(function (ring) {
          nRings++;
          ring.forEach(function (a) { nPts += arcXY(a < 0 ? ~a : a).length / 2; });
        });
      });
    });
    var xy = new Float64Array(nPts * 2), ringAt = new Int32Array(nRings + 1), areaAt = new Int32Array(n + 1);
    var bbox = new Float64Array(n * 4);
    var p = 0, r = 0;
    for (var i = 0; i < n; i++) {
      areaAt[i] = r;
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      polysOf(geoms[i]).forEach(function (poly) {
        poly.forEach(function (ring) {
          ringAt[r++] = p;
          ring.forEach(function (a, j) {
            var d = arcXY(a < 0 ? ~a : a), m = d.length / 2, rev = a < 0;
            // consecutive arcs of a ring share their end point: skip the repeat
            for (var k = j ? 1 : 0; k < m; k++) {
              var q = rev ? m - 1 - k : k, X = d[2 * q], Y = d[2 * q + 1];
              xy[2 * p] = X; xy[2 * p + 1] = Y; p++;
              if (X < x0) x0 = X; if (X > x1) x1 = X; if (Y < y0) y0 = Y; if (Y > y1) y1 = Y;
            }
          });
        });
      });
      bbox[4 * i] = x0; bbox[4 * i + 1] = y0; bbox[4 * i + 2] = x1; bbox[4 * i + 3] = y1;
    }
    areaAt[n] = r;
    ringAt[r] = p;
    var all = [Infinity, Infinity, -Infinity, -Infinity];
    for (i = 0; i < n; i++) {
      if (bbox[4 * i] === Infinity) continue;
      all[0] = Math.min(all[0], bbox[4 * i]); all[1] = Math.min(all[1], bbox[4 * i + 1]);
      all[2] = Math.max(all[2], bbox[4 * i + 2]); all[3] = Math.max(all[3], bbox[4 * i + 3]);
    }
    return (cache[name] = { name: name, n: n, xy: xy, ringAt: ringAt, areaAt: areaAt, bbox: bbox, extent: all });
  };

  // The area of `geom` containing (lat, lng), or -1: a grid over the areas' boxes, then
  // an even-odd ring test (the ward under the pointer, for hover).
  LSC.polyAt = function (geom, lat, lng) {
    var x = (lng + 180) / 360, y = mercY(lat), e = geom.extent, N = 64;
    if (!(x >= e[0] && x <= e[2] && y >= e[1] && y <= e[3])) return -1;
    var gw = (e[2] - e[0]) / N || 1e-9, gh = (e[3] - e[1]) / N || 1e-9, bb = geom.bbox;
    if (!geom.grid) {
      var grid = [];
      for (var i = 0; i < geom.n; i++) {
        if (bb[4 * i] === Infinity) continue;
        var c0 = Math.max(0, Math.floor((bb[4 * i] - e[0]) / gw)), c1 = Math.min(N - 1, Math.floor((bb[4 * i + 2] - e[0]) / gw));
        var r0 = Math.max(0, Math.floor((bb[4 * i + 1] - e[1]) / gh)), r1 = Math.min(N - 1, Math.floor((bb[4 * i + 3] - e[1]) / gh));
        for (var r = r0; r <= r1; r++) for (var c = c0; c <= c1; c++) (grid[r * N + c] || (grid[r * N + c] = [])).push(i);
      }
      geom.grid = grid;
    }
    var cell = geom.grid[Math.min(N - 1, Math.floor((y - e[1]) / gh)) * N + Math.min(N - 1, Math.floor((x - e[0]) / gw))] || [];
    var xy = geom.xy, ringAt = geom.ringAt, areaAt = geom.areaAt;
    for (var k = 0; k < cell.length; k++) {
      var a = cell[k];
      if (x < bb[4 * a] || x > bb[4 * a + 2] || y < bb[4 * a + 1] || y > bb[4 * a + 3]) continue;
      var inside = false;
      for (var rr = areaAt[a]; rr < areaAt[a + 1]; rr++) {
        for (var p = ringAt[rr], q = ringAt[rr + 1] - 1; p < ringAt[rr + 1]; q = p++) {
          var yi = xy[2 * p + 1], yj = xy[2 * q + 1];
          if ((yi > y) !== (yj > y) && x < (xy[2 * q] - xy[2 * p]) * (y - yi) / (yj - yi) + xy[2 * p]) inside = !inside;
        }
      }
      if (inside) return a;
    }
    return -1;
  };

  var Polys = null;
  function polysClass() {
    if (Polys) return Polys;
    Polys = L.Path.extend({
      options: { interactive: false, stroke: true, color: "#ffffff", weight: 0.3, opacity: 0.6 },

      initialize: function (geom, options) {
        L.setOptions(this, options);
        this._geom = geom;
        this._groups = [];          // [{fill, alpha, idx}] or, outline mode, [{idx}]
        this._strokes = null;       // outline mode: [{color, weight, opacity}] drawn in turn
        this._fills = null;
      },

      // ---- Leaflet's path protocol (the canvas renderer calls these)
      _project: function () {
        var m = this._map, e = this._geom.extent;
        this._scale = m.options.crs.scale(m.getZoom());
        this._origin = m.getPixelOrigin();
        var w = this._maxWeight() + 1;
        if (e[0] === Infinity) { this._pxBounds = null; return; }
        this._pxBounds = L.bounds(
          L.point(e[0] * this._scale - this._origin.x - w, e[1] * this._scale - this._origin.y - w),
          L.point(e[2] * this._scale - this._origin.x + w, e[3] * this._scale - this._origin.y + w));
      },
      _update: function () {},
      _updateBounds: function () {},
      _containsPoint: function () { return false; },
      _empty: function () { return !this._groups.length; },
      _maxWeight: function () {
        var w = this.options.weight || 0;
        (this._strokes || []).forEach(function (s) { w = Math.max(w, s.weight || 0); });
        return w;
      },
      _updatePath: function () {
        var r = this._renderer;
        if (!r || !r._drawing || !this._groups.length || this._scale == null) return;
        var ctx = r._ctx, b = r._bounds, rb = r._redrawBounds || b, G = this._geom;
        var s = this._scale, ox = this._origin.x, oy = this._origin.y;
        var pad = this._maxWeight() + 1;
        var lo = b.min, hi = b.max;
        if (rb !== b) {             // a partial redraw: only what it touches
          lo = L.point(Math.max(b.min.x, rb.min.x), Math.max(b.min.y, rb.min.y));
          hi = L.point(Math.min(b.max.x, rb.max.x), Math.min(b.max.y, rb.max.y));
        }
        var vx0 = (lo.x - pad + ox) / s, vy0 = (lo.y - pad + oy) / s, vx1 = (hi.x + pad + ox) / s, vy1 = (hi.y + pad + oy) / s;
        var xy = G.xy, ringAt = G.ringAt, areaAt = G.areaAt, bb = G.bbox;
        var tol = 0.7, dot = 1.5 / s;
        var outline = !!this._strokes;
        ctx.save();
        ctx.lineJoin = "round"; ctx.lineCap = "round";
        var o = this.options, strokes = this._strokes || (o.stroke && o.weight > 0 ? [o] : []);
        // Skia rasterises one path of thousands of areas far slower than many small ones
        // (33,755 LSOAs: ~150 ms as one path per colour, ~20 ms a few areas per path)
        var chunk = CHUNK;
        var flush = function (grp) {
          if (!outline) { ctx.globalAlpha = grp.alpha; ctx.fillStyle = grp.fill; ctx.fill("evenodd"); }
          for (var k = 0; k < strokes.length; k++) {
            var st = strokes[k];
            ctx.globalAlpha = st.opacity == null ? 1 : st.opacity;
            ctx.strokeStyle = st.color; ctx.lineWidth = st.weight;
            ctx.stroke();
          }
        };
        for (var gi = 0; gi < this._groups.length; gi++) {
          var grp = this._groups[gi], idx = grp.idx, dots = [], inPath = 0;
          ctx.beginPath();
          for (var t = 0; t < idx.length; t++) {
            var i = idx[t], k4 = 4 * i;
            if (i < 0 || i >= G.n) continue;
            var bx0 = bb[k4], by0 = bb[k4 + 1], bx1 = bb[k4 + 2], by1 = bb[k4 + 3];
            if (bx1 < vx0 || bx0 > vx1 || by1 < vy0 || by0 > vy1 || bx0 === Infinity) continue;
            if (!outline && bx1 - bx0 < dot && by1 - by0 < dot) { dots.push(i); continue; }
            for (var rr = areaAt[i]; rr < areaAt[i + 1]; rr++) {
              var a = ringAt[rr], z = ringAt[rr + 1];
              if (z - a < 3) continue;
              var px = xy[2 * a] * s - ox, py = xy[2 * a + 1] * s - oy;
              ctx.moveTo(px, py);
              for (var q = a + 1; q < z; q++) {
                var X = xy[2 * q] * s - ox, Y = xy[2 * q + 1] * s - oy;
                if (q < z - 1 && Math.abs(X - px) + Math.abs(Y - py) < tol) continue;
                ctx.lineTo(X, Y); px = X; py = Y;
              }
              ctx.closePath();
            }
            if (++inPath >= chunk) { flush(grp); ctx.beginPath(); inPath = 0; }
          }
          if (inPath) flush(grp);
          if (dots.length) {        // areas under ~1.5 px: a small square keeps their colour
            ctx.globalAlpha = grp.alpha;
            ctx.fillStyle = grp.fill;
            for (t = 0; t < dots.length; t += chunk) {
              ctx.beginPath();
              for (var u = t; u < Math.min(t + chunk, dots.length); u++) {
                var j4 = 4 * dots[u];
                var cx = (bb[j4] + bb[j4 + 2]) / 2 * s - ox, cy = (bb[j4 + 1] + bb[j4 + 3]) / 2 * s - oy;
                ctx.rect(cx - 0.75, cy - 0.75, 1.5, 1.5);
              }
              ctx.fill();
            }
          }
        }
        ctx.restore();
      },

      _redrawAll: function () {
        if (this._map && this._renderer) {
          this._project();
          this._renderer._requestRedraw(this);
          this._renderer._redrawBounds = null;        // a full redraw: every area may change
        }
      },

      // ---- the painters' interface
      // fill mode: class c > 0 is palette[c - 1] at `opacity`; else `nodata` (a colour or
      // the hatch pattern) at 0.9
      restyle: function (cls, palette, nodata, opacity) {
        var same = [Array.prototype.join.call(cls, ","), palette.join(","), String(nodata), opacity].join("|");
        if (same === this._styleKey && !this._strokes) return this;     // a rerun confirming the instant restyle
        this._styleKey = same;
        var byKey = {}, groups = [], fills = new Array(this._geom.n);
        for (var i = 0; i < this._geom.n; i++) {
          var c = cls[i], key = c > 0 ? c : 0;
          var g = byKey[key];
          if (!g) {
            g = byKey[key] = { fill: c > 0 ? palette[c - 1] : nodata, alpha: c > 0 ? opacity : 0.9, idx: [] };
            groups.push(g);
          }
          g.idx.push(i);
          fills[i] = c > 0 ? palette[c - 1] : null;
        }
        this._strokes = null;
        this._groups = groups;
        this._fills = fills;
        this._redrawAll();
        return this;
      },
      // outline mode: the areas `idx`, each stroke of `strokes` drawn over the last
      outline: function (idx, strokes) {
        this._styleKey = null;
        this._strokes = strokes;
        this._groups = idx && idx.length ? [{ idx: idx }] : [];
        this._fills = null;
        this._redrawAll();
        return this;
      },
      // outline mode with one stroke: Leaflet's setStyle (color / weight / opacity)
      setStyle: function (style) {
        if (this._strokes && this._strokes.length === 1 && style) {
          var st = this._strokes[0];
          ["color", "weight", "opacity"].forEach(function (k) { if (style[k] != null) st[k] = style[k]; });
          this._redrawAll();
          return this;
        }
        return L.Path.prototype.setStyle.call(this, style);
      },
      setWeight: function (w) {           // outline mode: the top stroke's weight
        if (this._strokes && this._strokes.length) {
          var top = this._strokes[this._strokes.length - 1], d = w - top.weight;
          this._strokes.forEach(function (st) { st.weight = Math.max(0.5, st.weight + d); });
          this._redrawAll();
        }
        return this;
      },
      getBounds: function () {           // the areas' extent (FeatureGroup.getBounds asks each layer)
        var e = this._geom.extent;
        var lat = function (y) { return 360 / PI * Math.atan(Math.exp((0.5 - y) * 2 * PI)) - 90; };
        return e[0] === Infinity ? L.latLngBounds([]) :
          L.latLngBounds([lat(e[3]), e[0] * 360 - 180], [lat(e[1]), e[2] * 360 - 180]);
      },
      count: function () { return this._geom.n; },
      strokes: function () { return (this._strokes || []).map(function (st) { return L.extend({}, st); }); },
      shown: function () { return this._groups.reduce(function (n, g) { return n + g.idx.length; }, 0); },
      colors: function () { return this._fills ? this._fills.slice() : []; },
    });
    return Polys;
  }

  LSC.polysLayer = function (geom, options) {
    var C = polysClass();
    return new C(geom, options);
  };
})();
