/* LSC map runtime: the wards layer's painter (after lsc_core.js in the bundle). */
(function () {
  "use strict";
  var LSC = window.LSC, U = LSC.u;
  var showLayer = U.showLayer;

  function applyWards(p) {
    var Ls = LSC.layers;
    var on = !!(p && p.show);
    showLayer(Ls.wards, on);
    if (!on) LSC._wardHover(null);
    if (p && p.stats) {
      LSC.fetchJSON(p.stats).then(function (s) { LSC._stats = s; });
    }
    LSC._labels();
  }

  LSC.paint.wards = applyWards;
})();
