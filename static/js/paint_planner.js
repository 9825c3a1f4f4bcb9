/* LSC map runtime: the outreach planner's painter (after lsc_core.js in the bundle):
 * numbered stops and coverage circles, drawn into the layer's feature group `fg`
 * (layers/planner.py). */
(function () {
  "use strict";
  var LSC = window.LSC;

  LSC.paint.planner = function (fg, P) {
    var map = window.LSC && LSC.map;
    if (!map) { return; }
    var pane = map.getPane("lsc-plan") || map.createPane("lsc-plan");
    pane.style.zIndex = 640;
    P.stops.forEach(function (s) {
      var col = s[4] ? P.whatif : P.colour;
      if (P.r > 0) {
        fg.addLayer(L.circle([s[0], s[1]], { radius: P.r, pane: "lsc-plan", color: col, weight: 2,
          dashArray: s[4] ? "6 4" : null, fillColor: col, fillOpacity: 0.08, interactive: false }));
      }
      var icon = L.divIcon({ className: "lsc-plan-stop", iconSize: [24, 24], iconAnchor: [12, 12],
        html: '<div style="width:22px;height:22px;border-radius:11px;background:' + col +
              ';color:#fff;border:2px solid #fff;font:700 12px/22px sans-serif;text-align:center;' +
              'box-shadow:0 0 2px #000">' + s[2] + '</div>' });
      fg.addLayer(L.marker([s[0], s[1]], { icon: icon, pane: "lsc-plan", keyboard: false })
        .bindTooltip(s[3], { direction: "top", offset: [0, -10] }));
    });
    document.body.setAttribute("data-lsc-plan", P.key);
  };
})();
