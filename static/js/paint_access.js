/* LSC map runtime: the access layer's painter (after lsc_core.js in the bundle): the
 * access-gap choropleth from the runtime's cached LSOA geometry, and the threshold rings,
 * drawn into the layer's own feature group `fg` (layers/access.py). */
(function () {
  "use strict";
  var LSC = window.LSC;

  LSC.paint.access = function (fg, P) {
    var map = window.LSC && LSC.map;
    if (!map || !LSC._geo) { return; }
    var pane = map.getPane("lsc-access") || map.createPane("lsc-access");
    pane.style.zIndex = 355; pane.style.pointerEvents = "none";
    LSC._accessRenderer = LSC._accessRenderer || L.canvas({ pane: "lsc-access", padding: 0.3 });
    var fillOf = LSC.fillOf || function (c) { return c; };
    LSC._geo(P.geo).then(function (g) { return LSC.need(g, ["lsoa"]); }).then(function (g) {   // the 2011 LSOAs (a split file)
      // one canvas layer of the 2011 LSOAs (static/js/lsc_polys.js), classes as colours
      var lay = LSC.polysLayer(LSC.polyGeom(LSC.topoOf(g, "lsoa"), "lsoa"),
        { renderer: LSC._accessRenderer, stroke: true, weight: 0.3, color: "#ffffff", opacity: 0.7 })
        .restyle(P.cls, P.colours, fillOf(P.nodata), P.opacity);
      fg.addLayer(lay);
      // the straight-line threshold: a ring of that radius round each open site (LSOAs
      // whose point lies outside every ring are beyond it)
      (P.rings || []).forEach(function (pt) {
        fg.addLayer(L.circle(pt, { radius: P.ring_m, renderer: LSC._accessRenderer, interactive: false, fill: false,
          color: P.ring.color, weight: P.ring.weight, dashArray: P.ring.dashArray, opacity: 0.95 }));
      });
      document.body.setAttribute("data-lsc-access", P.key);
    });
  };
})();
